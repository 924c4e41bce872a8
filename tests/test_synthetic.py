"""Tests for crbm.synthetic: the glyph digits and bars-and-stripes data."""

import numpy as np
import pytest

from crbm.synthetic import IMAGE_SIDE, bars_and_stripes, glyph_digits


@pytest.fixture(scope="module")
def digits():
    return glyph_digits(2000, random_state=0)


# --- glyph_digits -----------------------------------------------------------


def test_glyph_digits_shapes_and_dtypes(digits):
    images, labels = digits
    assert IMAGE_SIDE == 28
    assert images.shape == (2000, 28, 28)
    assert labels.shape == (2000,)
    assert images.dtype == np.uint8
    assert labels.dtype == np.uint8
    assert set(np.unique(images).tolist()) == {0, 1}
    assert set(np.unique(labels).tolist()) == set(range(10))


def test_glyph_digits_labels_are_balanced_and_shuffled():
    _, labels = glyph_digits(1003, random_state=5)
    counts = np.bincount(labels, minlength=10)
    assert counts.min() == 100 and counts.max() == 101 and counts.sum() == 1003
    assert not np.array_equal(labels, np.arange(1003) % 10)


def test_glyph_digits_same_seed_same_data():
    a_images, a_labels = glyph_digits(300, random_state=42)
    b_images, b_labels = glyph_digits(300, random_state=42)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_labels, b_labels)


def test_glyph_digits_different_seed_different_data():
    a_images, a_labels = glyph_digits(300, random_state=1)
    b_images, b_labels = glyph_digits(300, random_state=2)
    assert not np.array_equal(a_labels, b_labels)
    assert not np.array_equal(a_images, b_images)


def test_glyph_digits_accepts_generator_and_advances_it():
    rng = np.random.default_rng(7)
    first, _ = glyph_digits(50, random_state=rng)
    second, _ = glyph_digits(50, random_state=rng)
    assert not np.array_equal(first, second)
    again, _ = glyph_digits(50, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(first, again)


def test_glyph_digits_none_seed_gives_fresh_data():
    a_images, _ = glyph_digits(100)
    b_images, _ = glyph_digits(100)
    assert not np.array_equal(a_images, b_images)


def test_glyph_digits_zero_samples():
    images, labels = glyph_digits(0, random_state=0)
    assert images.shape == (0, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (0,) and labels.dtype == np.uint8


def test_glyph_digits_classes_are_distinguishable(digits):
    images, labels = digits
    flat = images.reshape(len(images), -1).astype(np.float64)
    means = np.stack([flat[labels == k].mean(axis=0) for k in range(10)])
    # Expected Hamming distance (per pixel) of each image to each class mean.
    distance = np.abs(flat[:, None, :] - means[None, :, :]).mean(axis=2)  # (n, 10)
    for k in range(10):
        own = distance[labels == k]
        mean_to_own = own[:, k].mean()
        mean_to_others = np.delete(own, k, axis=1).mean(axis=0)
        assert np.all(mean_to_own < mean_to_others), (k, mean_to_own, mean_to_others)
    # And most single images are nearest (in Euclidean distance) to their own
    # class mean, as for MNIST, where this nearest-centroid rule gets ~82%.
    squared = ((flat[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    accuracy = np.mean(squared.argmin(axis=1) == labels)
    assert accuracy > 0.75


def test_glyph_digits_look_like_centred_digits(digits):
    images, _ = digits
    ink = images.reshape(len(images), -1).mean(axis=1)
    # Mostly background, but every image has a real stroke.
    assert 0.08 < ink.mean() < 0.35
    assert ink.min() > 0.04
    # The digit's bounding box (ignoring isolated noise pixels by requiring
    # rows/columns with at least 2 ink pixels) is MNIST-sized.
    rows = images.sum(axis=2) >= 2
    heights = 28 - np.argmax(rows, axis=1) - np.argmax(rows[:, ::-1], axis=1)
    assert 14 <= np.median(heights) <= 22
    assert heights.min() >= 12
    # The border is nearly empty: the digit sits inside the frame.
    border = np.concatenate(
        [images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]], axis=1
    )
    assert border.mean() < 0.02


def test_glyph_digits_are_jittered(digits):
    images, labels = digits
    fives = images[labels == 5].reshape(-1, 28 * 28)
    # No two samples of a class are identical ...
    assert len(np.unique(fives, axis=0)) == len(fives)
    # ... and the position varies: centres of mass spread over pixels.
    ys, xs = np.mgrid[:28, :28]
    mass = fives.sum(axis=1)
    centre_x = (fives * xs.ravel()).sum(axis=1) / mass
    centre_y = (fives * ys.ravel()).sum(axis=1) / mass
    assert np.ptp(centre_x) > 2.5 and np.ptp(centre_y) > 2.5
    # Stroke thickness varies: ink per image spreads widely within a class.
    assert mass.max() > 1.5 * mass.min()


def test_glyph_digits_has_some_pixel_noise(digits):
    images, _ = digits
    # Isolated ink pixels (no 8-neighbour inked) only come from flip noise.
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    neighbours = sum(
        padded[:, 1 + dy:29 + dy, 1 + dx:29 + dx]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if (dy, dx) != (0, 0)
    )
    isolated = (images == 1) & (neighbours == 0)
    per_image = isolated.sum(axis=(1, 2))
    assert 0.5 < per_image.mean() < 8


@pytest.mark.parametrize("bad", [1.5, "10", None, True, np.float64(3.0)])
def test_glyph_digits_rejects_non_int_n_samples(bad):
    with pytest.raises(TypeError, match="n_samples"):
        glyph_digits(bad)


def test_glyph_digits_rejects_negative_n_samples():
    with pytest.raises(ValueError, match="n_samples"):
        glyph_digits(-1)


def test_glyph_digits_accepts_numpy_int():
    images, labels = glyph_digits(np.int64(20), random_state=np.int32(3))
    assert images.shape == (20, 28, 28) and labels.shape == (20,)


@pytest.mark.parametrize("bad", [1.0, "0", True, np.random.RandomState(0)])
def test_glyph_digits_rejects_bad_random_state(bad):
    with pytest.raises(TypeError, match="random_state"):
        glyph_digits(10, random_state=bad)


def test_glyph_digits_rejects_negative_seed():
    with pytest.raises(ValueError, match="random_state"):
        glyph_digits(10, random_state=-3)


# --- bars_and_stripes -------------------------------------------------------


def _is_bars_or_stripes(grid):
    columns_constant = np.all(grid == grid[0:1, :])
    rows_constant = np.all(grid == grid[:, 0:1])
    return columns_constant or rows_constant


@pytest.mark.parametrize("size", [2, 3, 4])
def test_bars_and_stripes_count_unique_and_valid(size):
    patterns = bars_and_stripes(size)
    assert patterns.dtype == np.uint8
    assert patterns.shape == (2 * 2**size - 2, size * size)
    assert set(np.unique(patterns).tolist()) == {0, 1}
    assert len(np.unique(patterns, axis=0)) == len(patterns)
    for row in patterns:
        assert _is_bars_or_stripes(row.reshape(size, size))
    # All-zero and all-one occur exactly once each.
    sums = patterns.sum(axis=1)
    assert np.sum(sums == 0) == 1
    assert np.sum(sums == size * size) == 1


@pytest.mark.parametrize("size", [2, 3, 4])
def test_bars_and_stripes_is_complete(size):
    # Brute force over all 2**(size*size) grids for small sizes.
    codes = np.arange(2 ** (size * size))
    grids = ((codes[:, None] >> np.arange(size * size)) & 1).astype(np.uint8)
    expected = {g.tobytes() for g in grids if _is_bars_or_stripes(g.reshape(size, size))}
    assert {row.tobytes() for row in bars_and_stripes(size)} == expected


def test_bars_and_stripes_default_is_3x3():
    patterns = bars_and_stripes()
    assert patterns.shape == (14, 9)
    np.testing.assert_array_equal(patterns, bars_and_stripes(3))


def test_bars_and_stripes_size_one():
    np.testing.assert_array_equal(bars_and_stripes(1), [[0], [1]])


def test_bars_and_stripes_known_rows():
    patterns = bars_and_stripes(2).reshape(-1, 2, 2)
    # A left vertical bar and a top horizontal stripe are both present.
    rows = {p.tobytes() for p in patterns}
    assert np.array([[1, 0], [1, 0]], np.uint8).tobytes() in rows
    assert np.array([[1, 1], [0, 0]], np.uint8).tobytes() in rows
    assert np.array([[1, 0], [0, 1]], np.uint8).tobytes() not in rows


@pytest.mark.parametrize("bad", [0, -2, 17])
def test_bars_and_stripes_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="size"):
        bars_and_stripes(bad)


@pytest.mark.parametrize("bad", [3.0, "3", None, True])
def test_bars_and_stripes_rejects_non_int(bad):
    with pytest.raises(TypeError, match="size"):
        bars_and_stripes(bad)
