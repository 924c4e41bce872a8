"""``crbm.images``: the import path of :mod:`crbm.io.images`, kept for code written against it."""
from crbm.io.images import *  # noqa: F401,F403
from crbm.io.images import __all__  # noqa: F401
