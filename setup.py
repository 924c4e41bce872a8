"""Build crbm's Cython extensions.

Metadata lives in pyproject.toml; this file only lists the extensions and
their compiler directives. ``CRBM_DEBUG=1`` builds with Cython's bounds,
wraparound and initialisation checks on (and ``-O0 -g``) for the test suite's
memory-safety run.
"""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("CRBM_DEBUG", "") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}
# -fno-trapping-math lets the compiler vectorise the branch-free sigmoid
# (crbm/_kernels.pyx); crbm never relies on floating-point traps.
# -ffp-contract=off: no fused multiply-adds where the source has none, so the
# FMA-capable SIMD clones in crbm/_simd.h round exactly like the others and
# results do not depend on the CPU.
compile_args = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-trapping-math", "-ffp-contract=off"]
# crbm's worker threads (crbm/_pool.h) are POSIX threads; glibc before 2.34
# (manylinux2014) keeps them in libpthread.
link_args = ["-pthread"]
compile_args.append("-pthread")
if os.name == "nt":
    compile_args = ["/Od"] if DEBUG else ["/O2"]
    link_args = []

MODULES = ["_blas", "_random", "_kernels", "_loops"]

extensions = [
    Extension(
        f"crbm.{name}",
        [f"crbm/{name}.pyx"],
        include_dirs=[numpy.get_include(), "crbm"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("CRBM_DEBUG_BUILD", "1" if DEBUG else "0")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for name in MODULES
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=directives),
    package_data={"crbm": ["*.pxd"]},
    exclude_package_data={"crbm": ["*.pyx", "*.c", "*.h"]},
)
