"""Turn rows of pixel intensities into viewable grayscale images.

Only numpy is needed to build image arrays (:func:`tile_images`).  Writing
PNG files (:func:`save_png`, :func:`save_each`) needs Pillow, which is
imported only when a file is written, so that crbm itself does not depend
on it.

Intensities are in [0, 1] and map to 0..255, so 1 is white: binary digits
come out white on black, as in MNIST.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from crbm.io._atomic import atomic_write
from crbm._validation import check_int, check_path

__all__ = ["tile_images", "save_png", "save_each"]

_PILLOW_MESSAGE = 'PNG output needs Pillow: pip install "crbm[cli]"'

#: Gray level of the separating lines and of empty cells in a tiled grid.
PAD_VALUE = 128


def _check_shape(shape, n_pixels: int) -> tuple[int, int]:
    """Validate (or infer, if None) the (height, width) of one image."""
    if shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(
                f"cannot infer the image shape: {n_pixels} pixels per image is not "
                "a perfect square; pass shape=(height, width)"
            )
        return side, side
    try:
        height, width = shape
    except (TypeError, ValueError):
        raise TypeError(f"shape must be a (height, width) pair, got {shape!r}") from None
    height, width = check_int("shape[0]", height, 1), check_int("shape[1]", width, 1)
    if height * width != n_pixels:
        raise ValueError(
            f"shape {(height, width)} has {height * width} pixels but each image "
            f"has {n_pixels}"
        )
    return height, width


def _as_uint8_images(images, shape, *, allow_empty: bool) -> np.ndarray:
    """Validate images with values in [0, 1]; return them as (n, h, w) uint8."""
    array = np.asarray(images)
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer)
            or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"images must have a real or bool dtype, got {array.dtype}")
    if array.ndim == 2:
        n_pixels = array.shape[1]
        if n_pixels == 0:
            raise ValueError("images have no pixels")
        height, width = _check_shape(shape, n_pixels)
    elif array.ndim == 3:
        height, width = array.shape[1:]
        if height == 0 or width == 0:
            raise ValueError("images have no pixels")
        if shape is not None and _check_shape(shape, height * width) != (height, width):
            raise ValueError(f"shape {tuple(shape)} does not match images of shape "
                             f"{(height, width)}")
    else:
        raise ValueError(
            "images must be 2-D (n_images, n_pixels) or 3-D (n_images, height, width), "
            f"got {array.ndim}-D"
        )
    if len(array) == 0 and not allow_empty:
        raise ValueError("need at least one image")
    if array.dtype == np.bool_:
        return array.reshape(len(array), height, width).astype(np.uint8) * np.uint8(255)
    if array.size:
        low, high = array.min(), array.max()
        if not (low >= 0 and high <= 1):  # also catches NaN
            raise ValueError(f"image values must be in [0, 1], got values in [{low}, {high}]")
    scaled = np.rint(array.astype(np.float64) * 255.0).astype(np.uint8)
    return scaled.reshape(len(array), height, width)


def tile_images(images, shape=None, *, n_cols: int | None = None, padding: int = 1) -> np.ndarray:
    """Arrange many small images into one grayscale grid image.

    Parameters
    ----------
    images : array_like, shape (n_images, n_pixels) or (n_images, height, width)
        Intensities in [0, 1], of any real or bool dtype (e.g. an RBM's
        training rows, or the probabilities of its samples).  0 is black and
        1 is white.
    shape : (int, int), optional
        ``(height, width)`` of one image, needed for 2-D input whose
        ``n_pixels`` is not a perfect square (the default is a square image).
        For 3-D input it is optional and must match.
    n_cols : int, optional
        Number of images per row of the grid.  The default,
        ``ceil(sqrt(n_images))``, gives a near-square grid.
    padding : int, default 1
        Width in pixels of the gray (128) lines between images.  There is no
        border around the grid.  Grid cells without an image are gray too.

    Returns
    -------
    numpy.ndarray of uint8, 2-D
        The grid, with intensities scaled to 0..255 (rounded).  Its shape is
        ``(n_rows * (height + padding) - padding,
        n_cols * (width + padding) - padding)`` with
        ``n_rows = ceil(n_images / n_cols)``.  Image ``i`` sits in grid row
        ``i // n_cols`` and column ``i % n_cols``.

    Raises
    ------
    TypeError
        If `images` has a non-real dtype or an argument has the wrong type.
    ValueError
        If there are no images, values are outside [0, 1] (or NaN), the
        image shape cannot be inferred or does not match, or `n_cols` /
        `padding` is out of range.

    Examples
    --------
    >>> grid = tile_images(np.ones((3, 4)), padding=1)  # three 2 x 2 images
    >>> grid.shape
    (5, 5)
    """
    if n_cols is not None:
        n_cols = check_int("n_cols", n_cols, 1)
    padding = check_int("padding", padding, 0)
    tiles = _as_uint8_images(images, shape, allow_empty=False)
    n, height, width = tiles.shape
    cols = math.ceil(math.sqrt(n)) if n_cols is None else int(n_cols)
    rows = math.ceil(n / cols)
    padding = int(padding)
    step_y, step_x = height + padding, width + padding
    grid = np.full((rows * step_y - padding, cols * step_x - padding), PAD_VALUE, dtype=np.uint8)
    for index in range(n):
        top, left = (index // cols) * step_y, (index % cols) * step_x
        grid[top:top + height, left:left + width] = tiles[index]
    return grid


def _import_pillow_image():
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(_PILLOW_MESSAGE) from exc
    return Image


def save_png(path: str | os.PathLike, image) -> None:
    """Write a 2-D uint8 array as a grayscale PNG file, atomically.

    The PNG is written to a temporary file in the destination's directory
    and then renamed over `path`, so readers never see a partial file; the
    temporary file is removed if anything fails.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.  Its directory must exist.  An existing file is
        replaced.
    image : numpy.ndarray of uint8, shape (height, width)
        Gray levels, 0 black to 255 white (e.g. from :func:`tile_images`).

    Raises
    ------
    ImportError
        If Pillow is not installed.
    TypeError
        If `image` is not a uint8 array.
    ValueError
        If `image` is not 2-D or is empty.
    """
    Image = _import_pillow_image()
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"image must have dtype uint8, got {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"image must be 2-D (height, width), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"image is empty (shape {array.shape})")
    target = check_path("path", path)
    picture = Image.fromarray(np.ascontiguousarray(array))
    with atomic_write(target) as handle:
        picture.save(handle, format="PNG")


def save_each(directory: str | os.PathLike, images, shape=None) -> list[Path]:
    """Write every image as its own grayscale PNG: ``0.png``, ``1.png``, ...

    Parameters
    ----------
    directory : str or os.PathLike
        Output directory; it is created (with parents) if needed.  Existing
        files with the same names are replaced.
    images : array_like, shape (n_images, n_pixels) or (n_images, height, width)
        Intensities in [0, 1] of any real or bool dtype (0 black, 1 white).
    shape : (int, int), optional
        ``(height, width)`` of one image, as for :func:`tile_images`.

    Returns
    -------
    list of pathlib.Path
        The files written, in image order (empty if there are no images).

    Raises
    ------
    ImportError
        If Pillow is not installed (checked before anything is written).
    TypeError, ValueError
        For invalid images or shape, as for :func:`tile_images`.
    """
    _import_pillow_image()
    tiles = _as_uint8_images(images, shape, allow_empty=True)
    out_dir = check_path("directory", directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, tile in enumerate(tiles):
        path = out_dir / f"{index}.png"
        save_png(path, tile)
        paths.append(path)
    return paths
