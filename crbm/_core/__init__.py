"""crbm's compiled core: the Cython kernels and the loops that call them.

Private: Python code uses it through :class:`crbm.RBM` and friends, Cython
code through the public declarations in ``crbm/kernels.pxd``.
"""
