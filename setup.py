"""Build crbm's Cython extensions.

Metadata lives in pyproject.toml; this file only lists the extensions and
their compiler directives. ``CRBM_DEBUG=1`` builds with Cython's bounds,
wraparound and initialisation checks on (and ``-O0 -g``) for the test suite's
memory-safety run.

A tree can be built one way after another: the generated C of each set of
directives has its own directory (``build/cython``, ``build/cython-debug``)
and a build whose configuration differs from the last one in the tree
compiles every extension again, so a debug build never compiles a release
build's C or links its objects, nor the other way round.
"""
import glob
import json
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

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
# (crbm/_core/_math.h), -fno-math-errno the square roots of the normal
# draws; crbm never relies on floating-point traps or errno.
# -ffp-contract=off: no fused multiply-adds where the source has none, so the
# FMA-capable SIMD clones in crbm/_simd.h round exactly like the others and
# results do not depend on the CPU.
compile_args = (["-O0", "-g"] if DEBUG else
                ["-O3", "-fno-trapping-math", "-fno-math-errno", "-ffp-contract=off"])
# crbm's worker threads (crbm/_pool.h) are POSIX threads; glibc before 2.34
# (manylinux2014) keeps them in libpthread.
link_args = ["-pthread"]
compile_args.append("-pthread")
if os.name == "nt":
    compile_args = ["/Od"] if DEBUG else ["/O2"]
    link_args = []

# The compiled modules, largest first: with a thread a module
# (CrbmBuildExt), the long compiles start at once.
MODULES = ["crbm._core._loops", "crbm._core._units", "crbm._core._products",
           "crbm._core._random", "crbm._core._rows", "crbm._core._blocks", "crbm.kernels",
           "crbm._core._minibatch", "crbm._core._policy", "crbm._core._blas",
           "crbm._core._gibbs", "crbm._core._online", "crbm._core._threads",
           "crbm._core._tempering", "crbm._core._hybrid", "crbm._core._annealing"]

# Every module may include any header (they include each other), and Cython
# tracks only the headers a .pyx names itself: a changed header rebuilds all.
HEADERS = sorted(glob.glob("crbm/_core/*.h"))

extensions = [
    Extension(
        name,
        [name.replace(".", "/") + ".pyx"],
        include_dirs=[numpy.get_include(), "crbm/_core"],
        depends=HEADERS,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for name in MODULES
]


# Cython regenerates C only when it is older than its sources, whatever the
# directives: each set of them writes its own.
BUILD_DIR = "build"
CYTHON_DIR = os.path.join(BUILD_DIR, "cython-debug" if DEBUG else "cython")
# What the compiled objects depend on beyond their sources.
BUILD_CONFIG = json.dumps({
    "debug": DEBUG, "compile_args": compile_args, "link_args": link_args,
    **{name: os.environ.get(name, "") for name in ("CC", "CFLAGS", "CPPFLAGS", "LDFLAGS")},
}, sort_keys=True)
BUILD_CONFIG_FILE = os.path.join(BUILD_DIR, "crbm-build-config.json")


class CrbmBuildExt(build_ext):
    """build_ext that compiles the extensions side by side, a thread each
    up to the CPU count, unless ``--parallel`` says otherwise (a build then
    takes the time of its largest module), and compiles them all again when
    the last build in this tree was configured otherwise (build_ext alone
    keeps an extension that is newer than its C)."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1
        if self._last_config() != BUILD_CONFIG:
            self.force = True

    def run(self):
        super().run()
        os.makedirs(BUILD_DIR, exist_ok=True)
        with open(BUILD_CONFIG_FILE, "w") as f:
            f.write(BUILD_CONFIG)

    @staticmethod
    def _last_config():
        try:
            with open(BUILD_CONFIG_FILE) as f:
                return f.read()
        except OSError:
            return None


setup(
    ext_modules=cythonize(extensions, compiler_directives=directives, build_dir=CYTHON_DIR),
    cmdclass={"build_ext": CrbmBuildExt},
    # The public Cython API; crbm._core's declarations are private.
    package_data={"crbm": ["kernels.pxd"]},
    exclude_package_data={"crbm": ["*.pyx", "*.c"],
                          "crbm._core": ["*.pxd", "*.pyx", "*.c", "*.h"]},
)
