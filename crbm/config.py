"""What this crbm is: its build, its threads and the rules that pick its kernels.

:func:`show_config` prints it, :func:`config` returns it. Which kernels a
call actually ran is in the ``"crbm"`` logger at ``DEBUG`` level: every
``train`` and ``generate`` logs the paths it took and how many times::

    import logging
    logging.basicConfig()
    logging.getLogger("crbm").setLevel(logging.DEBUG)
"""
from __future__ import annotations

import platform
import sys
from typing import Any, TextIO

import numpy as np
import scipy

from crbm._core import _loops, _policy, _rows
from crbm.threads import get_num_threads

__all__ = ["config", "show_config"]


def _blas_pools() -> list[dict] | str:
    try:
        import threadpoolctl
    except ImportError:
        return "not known (install threadpoolctl to see BLAS's threads)"
    return [{"library": pool.get("internal_api"), "threads": pool.get("num_threads"),
             "version": pool.get("version"), "path": pool.get("filepath")}
            for pool in threadpoolctl.threadpool_info()]


def config() -> dict[str, Any]:
    """crbm's build, threads and path-selection thresholds.

    Returns
    -------
    dict
        ``"versions"`` (crbm, Python, numpy, scipy), ``"build"`` (whether
        indices are checked; how the vectorised loops were compiled and
        whether the AVX-512 copies run on this CPU), ``"threads"`` (crbm's
        own, and BLAS's pools when threadpoolctl is installed) and
        ``"thresholds"`` (``{name: {"value", "reason"}}``, the rules in
        force; see ``crbm._core._policy``).
    """
    from crbm import __version__
    thresholds = _policy.thresholds()
    return {
        "versions": {"crbm": __version__, "python": platform.python_version(),
                     "numpy": np.__version__, "scipy": scipy.__version__},
        "build": {"indices_checked": bool(_loops.DEBUG_BUILD), **_rows._simd(),
                  "machine": platform.machine()},
        "threads": {"crbm": get_num_threads(), "blas": _blas_pools()},
        "thresholds": {name: {"value": value, "reason": _policy.REASONS[name]}
                       for name, value in thresholds.items()},
    }


def show_config(file: TextIO | None = None) -> None:
    """Print :func:`config` for people, to ``file`` (default stdout)."""
    out = file if file is not None else sys.stdout
    info = config()
    versions = info["versions"]
    print(f"crbm {versions['crbm']} (Python {versions['python']}, numpy {versions['numpy']}, "
          f"scipy {versions['scipy']})", file=out)
    build = info["build"]
    print("build:", file=out)
    print(f"  machine: {build['machine']}", file=out)
    print(f"  vectorised loops: {build['loops']}", file=out)
    if build["avx512_sources"]:
        state = "in use" if build["avx512_sources_in_use"] else "not in use (CPU lacks AVX-512)"
        print(f"  hand-written AVX-512 loops: {state}", file=out)
    print(f"  indices checked (debug build): {build['indices_checked']}", file=out)
    threads = info["threads"]
    print("threads:", file=out)
    print(f"  crbm: {threads['crbm']}", file=out)
    if isinstance(threads["blas"], str):
        print(f"  BLAS: {threads['blas']}", file=out)
    else:
        for pool in threads["blas"]:
            print(f"  {pool['library']} {pool['version']}: {pool['threads']} ({pool['path']})",
                  file=out)
    print("thresholds (crbm._core._policy; the paths each call takes are logged by the "
          "'crbm' logger at DEBUG level):", file=out)
    for name, entry in info["thresholds"].items():
        print(f"  {name} = {_number(entry['value'])}: {entry['reason']}", file=out)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
