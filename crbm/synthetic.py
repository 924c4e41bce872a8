"""Small synthetic data sets that crbm generates itself.

Nothing here is downloaded or read from disk: every sample is computed from
the constants in this module and a random number generator.

* :func:`glyph_digits` -- a *synthetic* stand-in for MNIST: 28 x 28 binary
  images of the digits 0-9 rendered from a hand-drawn 7 x 9 bitmap font with
  random scale, slant, translation, stroke thickness and pixel noise.  It is
  meant for demos and tests that need "MNIST-like" data without a download.
  It is **not** MNIST and results on it say little about results on MNIST.
* :func:`bars_and_stripes` -- the classic bars-and-stripes toy distribution,
  small enough that an RBM's log-likelihood can be computed exactly.
"""

from __future__ import annotations

import numpy as np

from crbm._validation import as_generator, check_int

__all__ = ["glyph_digits", "bars_and_stripes", "IMAGE_SIDE"]

#: Side length, in pixels, of the square images made by :func:`glyph_digits`.
IMAGE_SIDE = 28

# A hand-drawn 7 (wide) x 9 (tall) bitmap font, one glyph per digit.
# "#" is ink, "." is background.
_FONT_SOURCE = {
    0: """
        ..###..
        .#...#.
        #.....#
        #.....#
        #.....#
        #.....#
        #.....#
        .#...#.
        ..###..
    """,
    1: """
        ....#..
        ...##..
        ..#.#..
        ....#..
        ....#..
        ....#..
        ....#..
        ....#..
        ....#..
    """,
    2: """
        ..###..
        .#...#.
        .....#.
        .....#.
        ....#..
        ...#...
        ..#....
        .#.....
        #######
    """,
    3: """
        .#####.
        #.....#
        ......#
        ......#
        ..####.
        ......#
        ......#
        #.....#
        .#####.
    """,
    4: """
        ....#..
        ...##..
        ..#.#..
        .#..#..
        #...#..
        #######
        ....#..
        ....#..
        ....#..
    """,
    5: """
        #######
        #......
        #......
        ######.
        ......#
        ......#
        ......#
        #.....#
        .#####.
    """,
    6: """
        ..####.
        .#.....
        #......
        #......
        #.####.
        ##....#
        #.....#
        #.....#
        .#####.
    """,
    7: """
        #######
        ......#
        .....#.
        ....#..
        ....#..
        ...#...
        ...#...
        ..#....
        ..#....
    """,
    8: """
        .#####.
        #.....#
        #.....#
        #.....#
        .#####.
        #.....#
        #.....#
        #.....#
        .#####.
    """,
    9: """
        .#####.
        #.....#
        #.....#
        #.....#
        .######
        ......#
        ......#
        .....#.
        .####..
    """,
}


def _parse_font(source: dict[int, str]) -> np.ndarray:
    """Turn the string-literal font into a ``(10, rows, cols)`` bool array."""
    glyphs = []
    for digit in range(10):
        rows = [line.strip() for line in source[digit].strip().splitlines()]
        glyphs.append([[char == "#" for char in row] for row in rows])
    font = np.array(glyphs, dtype=bool)
    if font.ndim != 3:  # pragma: no cover - guards against editing mistakes
        raise RuntimeError("all glyphs in the font must have the same size")
    return font


_FONT = _parse_font(_FONT_SOURCE)
_GLYPH_ROWS, _GLYPH_COLS = _FONT.shape[1:]
_PADDED_FONT = np.pad(_FONT, ((0, 0), (1, 1), (1, 1)))

# Jitter ranges used by glyph_digits (all uniform).
_SCALE_Y = (1.7, 2.1)  # output pixels per glyph pixel, vertically
_ASPECT = (0.85, 1.2)  # horizontal scale relative to the vertical scale
_SHEAR = (-0.12, 0.38)  # horizontal shift per pixel of height (slant)
_SHIFT = 2.0  # maximum translation in pixels, each axis
_WOBBLE = 1.2  # maximum amplitude in pixels of a sideways sine wobble
_WOBBLE_PERIOD = (14.0, 30.0)  # its period in pixels of height
_THICKEN_PROB = 0.35  # chance that a sample's strokes are dilated once more
_FLIP_PROB = 0.004  # chance that any one pixel is flipped


def glyph_digits(
    n_samples: int, *, random_state: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Generate a synthetic, MNIST-like set of binary 28 x 28 digit images.

    This is **synthetic data**, not MNIST.  Each image is one of ten glyphs
    from a small hand-drawn 7 x 9 bitmap font embedded in this module,
    resampled (nearest neighbour) to about 16-21 pixels tall and placed in a
    28 x 28 frame with per-sample random jitter:

    * scale (the height varies, and the width by a further aspect factor),
    * slant (a horizontal shear, mostly leaning right as in handwriting),
    * a gentle sideways wobble (a sine of random amplitude, period and
      phase down the height) that bends straight strokes,
    * translation by up to 2 pixels in each direction,
    * stroke width: every glyph is dilated to strokes of at least two
      pixels, and about a third of the samples are dilated once more,
    * pixel flip noise (about 0.4% of the pixels are flipped).

    It exists so that crbm's demos and tests have "MNIST-shaped" data
    without downloading anything.  Digits are white (1) on black (0).

    Parameters
    ----------
    n_samples : int
        Number of images to generate (0 gives empty arrays).
    random_state : int, numpy.random.Generator or None, optional
        Seed or generator for the jitter and the labels.  The same int seed
        always gives the same data.  A ``Generator`` is used (and advanced)
        directly.  ``None`` uses fresh OS entropy.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (n_samples, 28, 28)
        Binary images with values 0 and 1.
    labels : numpy.ndarray of uint8, shape (n_samples,)
        The digit drawn in each image.  Every digit occurs
        ``n_samples // 10`` or ``n_samples // 10 + 1`` times, in random
        order.

    Raises
    ------
    TypeError
        If `n_samples` is not an int or `random_state` has the wrong type.
    ValueError
        If `n_samples` or an int `random_state` is negative.

    Examples
    --------
    >>> images, labels = glyph_digits(100, random_state=0)
    >>> images.shape, images.dtype, labels.shape
    ((100, 28, 28), dtype('uint8'), (100,))
    >>> X = images.reshape(len(images), -1)  # (n, 784) rows for an RBM
    """
    n = check_int("n_samples", n_samples, 0)
    rng = as_generator(random_state)

    # Balanced labels in random order.
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)

    def per_sample(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, size=(n, 1, 1)).astype(np.float32)

    scale_y = per_sample(*_SCALE_Y)
    scale_x = scale_y * per_sample(*_ASPECT)
    shear = per_sample(*_SHEAR)
    shift_y = per_sample(-_SHIFT, _SHIFT)
    shift_x = per_sample(-_SHIFT, _SHIFT)
    wobble = per_sample(0.0, _WOBBLE)
    wobble_period = per_sample(*_WOBBLE_PERIOD)
    wobble_phase = per_sample(0.0, 2.0 * np.pi)
    thicken = rng.random(n) < _THICKEN_PROB

    # Inverse mapping: for every output pixel centre find the glyph pixel it
    # samples (nearest neighbour).  Coordinates are relative to the centre of
    # the frame, moved by the translation; the slant moves upper rows right
    # (y grows downwards) and the wobble bends vertical strokes a little, as
    # in handwriting.  Indices are offset by one into a font padded with a
    # blank border, and clipped, so that anything outside the glyph samples
    # background.  The 2 x 2 dilation below grows glyphs down and right by a
    # pixel, so aim half a pixel up and left of the middle of the frame.
    centre = IMAGE_SIDE / 2.0 - 0.5
    coords = np.arange(IMAGE_SIDE, dtype=np.float32) + np.float32(0.5 - centre)
    dy = coords[None, :, None] - shift_y  # (n, 28, 1)
    dx = coords[None, None, :] - shift_x  # (n, 1, 28)
    row = np.floor(dy / scale_y + np.float32(_GLYPH_ROWS / 2.0 + 1.0))
    sway = shear * dy - wobble * np.sin(np.float32(2.0 * np.pi) * dy / wobble_period + wobble_phase)
    col_offset = sway / scale_x + np.float32(_GLYPH_COLS / 2.0 + 1.0)
    col = dx / scale_x + col_offset  # (n, 28, 28)
    np.floor(col, out=col)
    row = np.clip(row, 0, _GLYPH_ROWS + 1).astype(np.intp)
    col = np.clip(col, 0, _GLYPH_COLS + 1).astype(np.intp)
    # Gather each sample's glyph rows first, then the columns within them.
    rows = _PADDED_FONT[labels.astype(np.intp)[:, None], row[:, :, 0]]  # (n, 28, cols + 2)
    images = np.take_along_axis(rows, col, axis=2)

    # Strokes: always dilate with a 2 x 2 square so that no stroke is thinner
    # than two pixels, and grow the thick samples by one more pixel up and
    # left (together a 3 x 3 square).
    grown = images.copy()
    grown[:, 1:, :] |= images[:, :-1, :]
    grown[:, :, 1:] |= images[:, :, :-1]
    grown[:, 1:, 1:] |= images[:, :-1, :-1]
    images = grown
    thick = images[thicken]
    grown = thick.copy()
    grown[:, :-1, :] |= thick[:, 1:, :]
    grown[:, :, :-1] |= thick[:, :, 1:]
    images[thicken] = grown

    # Pixel flip noise: a Binomial number of flips at uniform positions.
    n_flips = rng.binomial(images.size, _FLIP_PROB) if images.size else 0
    flat = images.reshape(-1)
    flat[rng.integers(0, flat.size, size=n_flips)] ^= True
    return images.view(np.uint8), labels


def bars_and_stripes(size: int = 3) -> np.ndarray:
    """Return every bars-and-stripes pattern of a ``size`` x ``size`` grid.

    A pattern either has every column constant (vertical bars) or every row
    constant (horizontal stripes).  There are ``2 * 2**size - 2`` distinct
    patterns: the all-0 and all-1 grids are both bars and stripes and appear
    only once.

    Parameters
    ----------
    size : int, default 3
        Side length of the grid, from 1 to 16.

    Returns
    -------
    numpy.ndarray of uint8, shape (2 * 2**size - 2, size * size)
        One flattened (row-major) pattern per row, values 0 and 1.  The bars
        come first (in binary counting order of their columns), then the
        stripes other than all-0 and all-1.

    Raises
    ------
    TypeError
        If `size` is not an int.
    ValueError
        If `size` is outside 1..16.

    Examples
    --------
    >>> bars_and_stripes(2)
    array([[0, 0, 0, 0],
           [0, 1, 0, 1],
           [1, 0, 1, 0],
           [1, 1, 1, 1],
           [0, 0, 1, 1],
           [1, 1, 0, 0]], dtype=uint8)
    """
    size = check_int("size", size, 1)
    if size > 16:
        raise ValueError(f"size must be between 1 and 16, got {size}")
    codes = np.arange(2**size)
    # bits[k, j] is bit j (most significant first) of code k.
    bits = ((codes[:, None] >> np.arange(size - 1, -1, -1)) & 1).astype(np.uint8)
    bars = np.broadcast_to(bits[:, None, :], (len(codes), size, size))
    stripes = np.broadcast_to(bits[1:-1, :, None], (len(codes) - 2, size, size))
    patterns = np.concatenate([bars, stripes])
    return np.ascontiguousarray(patterns.reshape(len(patterns), size * size))
