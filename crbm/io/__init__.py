"""Files in and out: idx data files, MNIST download, PNG images and model files.

Everything here writes atomically (:func:`atomic_write`): a crash or a
failed call never leaves half a file under the target's name.
"""
from crbm.io._atomic import atomic_write

__all__ = ["atomic_write"]
