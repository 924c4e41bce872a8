"""Coverage-guided fuzzing of the readers with atheris (optional; pytest skips it).

::

    pip install atheris
    python tests/fuzz_atheris.py idx -atheris_runs=200000
    python tests/fuzz_atheris.py model -max_total_time=600

The target checks the same property as ``tests/test_fuzz.py``
(:func:`check_read_idx`, :func:`check_load`): the documented exception or a
correct result, nothing unpickled, memory within the bound.  A violation
stops the run and libFuzzer saves the input as ``crash-*``; an input that
runs over 10 s (``-timeout=``) as ``timeout-*``.  The seeds are
copied from ``tests/corpus`` to a temporary directory, where libFuzzer also
keeps the inputs it finds, so the checked-in corpus is never modified.
"""
import importlib.util
import pickle
import shutil
import sys
import tempfile
import tracemalloc
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent


def _load_checks():
    """Import test_fuzz.py (and crbm, zipfile, gzip, json) with coverage instrumentation."""
    with atheris.instrument_imports(include=["crbm", "zipfile", "gzip", "json"]):
        import crbm  # noqa: F401  (instrumented here, before test_fuzz imports it)
        spec = importlib.util.spec_from_file_location("crbm_test_fuzz", HERE / "test_fuzz.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def main() -> None:
    """Run the target named by the first argument; the rest go to libFuzzer."""
    target, args = sys.argv[1], sys.argv[2:]
    checks = _load_checks()

    def refuse(*args, **kwargs):
        raise checks.Unpickled("a reader tried to unpickle data")

    pickle.load = pickle.loads = pickle.Unpickler = refuse
    tracemalloc.start()  # once: see call_measured
    # libFuzzer's own timeout saves the input that hangs; the watchdog would not.
    checks.WATCHDOG_SECONDS = None
    if not any(arg.startswith("-timeout=") for arg in args):
        args.append("-timeout=10")
    workdir = Path(tempfile.mkdtemp(prefix="crbm-atheris-"))
    corpus = workdir / "corpus"
    corpus.mkdir()
    patterns = {"idx": ("*.idx", "*.idx.gz", "mnist/*"), "model": ("*.npz",)}[target]
    for pattern in patterns:
        for seed in (HERE / "corpus").glob(pattern):
            shutil.copy(seed, corpus / seed.name)

    def one_input(data: bytes) -> None:
        if target == "idx":
            checks.check_read_idx(workdir, data)
        else:
            checks.check_load(workdir, data)

    atheris.Setup([sys.argv[0], *args, str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
