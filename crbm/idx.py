"""``crbm.idx``: the import path of :mod:`crbm.io.idx`, kept for code written against it."""
from crbm.io.idx import *  # noqa: F401,F403
from crbm.io.idx import __all__  # noqa: F401
