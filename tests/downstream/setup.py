"""Build the downstream example against the installed crbm: its .pxd files
are found through crbm.get_include(), numpy's random C API through numpy's."""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

import crbm

setup(
    name="downstream-gibbs",
    ext_modules=cythonize(
        [Extension("downstream_gibbs", ["downstream_gibbs.pyx"],
                   include_dirs=[crbm.get_include(), numpy.get_include()])],
        compiler_directives={"language_level": 3}),
)
