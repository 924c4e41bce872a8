"""``crbm.datasets``: the import path of :mod:`crbm.io.datasets`, kept for code written against it."""
from crbm.io.datasets import *  # noqa: F401,F403
from crbm.io.datasets import __all__  # noqa: F401
