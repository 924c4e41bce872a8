"""Tests for crbm.images: tiling images into grids and writing PNG files."""

import builtins
import os

import numpy as np
import pytest
from PIL import Image

from crbm.io.images import PAD_VALUE, save_each, save_png, tile_images

# --- tile_images ------------------------------------------------------------


def test_tile_images_layout_and_values():
    # Six 2 x 3 images, image k filled with k / 5.
    images = np.repeat(np.arange(6)[:, None] / 5.0, 6, axis=1)
    grid = tile_images(images, shape=(2, 3), padding=1)
    # Near-square default: ceil(sqrt(6)) = 3 columns, 2 rows.
    assert grid.dtype == np.uint8
    assert grid.shape == (2 * 2 + 1, 3 * 3 + 2)
    for k in range(6):
        row, col = divmod(k, 3)
        tile = grid[row * 3:row * 3 + 2, col * 4:col * 4 + 3]
        assert np.all(tile == round(k / 5 * 255)), k
    # Separating lines are gray.
    assert np.all(grid[2, :] == PAD_VALUE)
    assert np.all(grid[:, 3] == PAD_VALUE)
    assert np.all(grid[:, 7] == PAD_VALUE)


def test_tile_images_places_pixels_row_major():
    image = np.arange(12).reshape(3, 4) / 11.0
    grid = tile_images(image[None], padding=0)
    np.testing.assert_array_equal(grid, np.rint(image * 255).astype(np.uint8))
    # A flattened (n, n_pixels) row with an explicit shape gives the same.
    np.testing.assert_array_equal(tile_images(image.reshape(1, -1), shape=(3, 4), padding=0), grid)


def test_tile_images_white_on_black():
    images = np.zeros((4, 16))
    images[:, 5] = 1
    grid = tile_images(images, padding=0)
    assert grid.shape == (8, 8)
    assert grid.max() == 255 and grid.min() == 0
    assert np.count_nonzero(grid == 255) == 4
    assert grid[1, 1] == 255  # pixel 5 of a 4 x 4 image is (1, 1)


def test_tile_images_n_cols_and_empty_cells():
    images = np.ones((5, 4))
    grid = tile_images(images, n_cols=2, padding=2)
    # 5 images in 2 columns -> 3 rows; 2 x 2 images with 2 px of padding.
    assert grid.shape == (3 * 4 - 2, 2 * 4 - 2)
    assert np.all(grid[8:10, 0:2] == 255)  # image 4
    assert np.all(grid[8:10, 4:6] == PAD_VALUE)  # empty cell
    one_row = tile_images(images, n_cols=5, padding=0)
    assert one_row.shape == (2, 10)
    assert np.all(one_row == 255)


def test_tile_images_default_grid_is_near_square():
    grid = tile_images(np.zeros((100, 784)))
    assert grid.shape == (10 * 29 - 1, 10 * 29 - 1)
    grid = tile_images(np.zeros((10, 784)))
    # 10 images: 4 columns, 3 rows.
    assert grid.shape == (3 * 29 - 1, 4 * 29 - 1)


@pytest.mark.parametrize(
    "images",
    [
        np.array([[True, False, False, True]]),
        np.array([[1, 0, 0, 1]], dtype=np.uint8),
        np.array([[1, 0, 0, 1]], dtype=np.int64),
        np.array([[1.0, 0.0, 0.0, 1.0]], dtype=np.float32),
        [[1, 0, 0, 1]],
    ],
)
def test_tile_images_accepts_bool_int_float_and_lists(images):
    np.testing.assert_array_equal(tile_images(images, padding=0), [[255, 0], [0, 255]])


def test_tile_images_rounds_intensities():
    grid = tile_images(np.array([[0.5, 0.1, 0.999, 0.002]]), padding=0)
    np.testing.assert_array_equal(grid, [[128, 26], [255, 1]])


def test_tile_images_needs_shape_for_non_square_rows():
    with pytest.raises(ValueError, match="shape"):
        tile_images(np.zeros((2, 6)))


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(shape=(2, 2)), ValueError),
        (dict(shape=(0, 6)), ValueError),
        (dict(shape=(2, 3.0)), TypeError),
        (dict(shape=6), TypeError),
        (dict(n_cols=0), ValueError),
        (dict(n_cols=2.0), TypeError),
        (dict(padding=-1), ValueError),
        (dict(padding=1.5), TypeError),
    ],
)
def test_tile_images_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        tile_images(np.zeros((2, 6)), **{"shape": (2, 3), **kwargs})


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((0, 4)), ValueError, "at least one image"),
        (np.zeros(4), ValueError, "2-D"),
        (np.zeros((1, 2, 2, 1)), ValueError, "2-D"),
        (np.array([[0.0, 1.5, 0.0, 0.0]]), ValueError, r"\[0, 1\]"),
        (np.array([[0.0, -0.1, 0.0, 0.0]]), ValueError, r"\[0, 1\]"),
        (np.array([[0.0, np.nan, 0.0, 0.0]]), ValueError, r"\[0, 1\]"),
        (np.array([[0, 2, 0, 0]]), ValueError, r"\[0, 1\]"),
        (np.zeros((1, 4), dtype=complex), TypeError, "dtype"),
        (np.array([["a", "b", "c", "d"]]), TypeError, "dtype"),
    ],
)
def test_tile_images_rejects_bad_images(images, error, message):
    with pytest.raises(error, match=message):
        tile_images(images)


def test_tile_images_3d_shape_must_match():
    images = np.zeros((2, 2, 3))
    assert tile_images(images, shape=(2, 3), padding=0).shape == (2, 6)
    with pytest.raises(ValueError, match="shape"):
        tile_images(images, shape=(3, 2))


def test_tile_images_does_not_modify_input():
    images = np.linspace(0, 1, 32).reshape(2, 16)
    before = images.copy()
    tile_images(images)
    np.testing.assert_array_equal(images, before)


# --- save_png ---------------------------------------------------------------


def test_save_png_round_trip(tmp_path):
    image = np.arange(7 * 11, dtype=np.uint8).reshape(7, 11) * 3
    path = tmp_path / "grid.png"
    save_png(path, image)
    with Image.open(path) as loaded:
        assert loaded.format == "PNG"
        assert loaded.mode == "L"
        assert loaded.size == (11, 7)
        np.testing.assert_array_equal(np.asarray(loaded), image)
    assert os.listdir(tmp_path) == ["grid.png"]  # no temporary files left


def test_save_png_accepts_str_path_and_non_contiguous_array(tmp_path):
    image = np.arange(64, dtype=np.uint8).reshape(8, 8)[:, ::2]
    save_png(str(tmp_path / "a.png"), image)
    with Image.open(tmp_path / "a.png") as loaded:
        np.testing.assert_array_equal(np.asarray(loaded), image)


def test_save_png_replaces_existing_file(tmp_path):
    path = tmp_path / "x.png"
    save_png(path, np.zeros((3, 3), np.uint8))
    save_png(path, np.full((2, 5), 200, np.uint8))
    with Image.open(path) as loaded:
        np.testing.assert_array_equal(np.asarray(loaded), np.full((2, 5), 200))
    assert os.listdir(tmp_path) == ["x.png"]


def test_save_png_of_tiled_grid(tmp_path):
    images = np.eye(9)[:, :9]
    grid = tile_images(images, shape=(3, 3))
    save_png(tmp_path / "eye.png", grid)
    with Image.open(tmp_path / "eye.png") as loaded:
        np.testing.assert_array_equal(np.asarray(loaded), grid)


def test_save_png_removes_temp_file_on_failure(tmp_path, monkeypatch):
    original = Image.Image.save

    def failing_save(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    path = tmp_path / "out.png"
    with pytest.raises(OSError, match="disk full"):
        save_png(path, np.zeros((2, 2), np.uint8))
    assert os.listdir(tmp_path) == []
    # A failed write leaves an existing file untouched.
    monkeypatch.setattr(Image.Image, "save", original)
    save_png(path, np.full((2, 2), 9, np.uint8))
    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError):
        save_png(path, np.zeros((2, 2), np.uint8))
    assert os.listdir(tmp_path) == ["out.png"]
    with Image.open(path) as loaded:
        np.testing.assert_array_equal(np.asarray(loaded), np.full((2, 2), 9))


@pytest.mark.parametrize(
    "image, error",
    [
        (np.zeros((2, 2), np.float64), TypeError),
        (np.zeros((2, 2), np.int64), TypeError),
        (np.zeros((2, 2, 3), np.uint8), ValueError),
        (np.zeros(4, np.uint8), ValueError),
        (np.zeros((0, 3), np.uint8), ValueError),
    ],
)
def test_save_png_rejects_bad_images(tmp_path, image, error):
    with pytest.raises(error):
        save_png(tmp_path / "bad.png", image)
    assert os.listdir(tmp_path) == []


def test_save_png_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        save_png(tmp_path / "missing" / "a.png", np.zeros((2, 2), np.uint8))


def _hide_pillow(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_save_png_without_pillow(tmp_path, monkeypatch):
    _hide_pillow(monkeypatch)
    with pytest.raises(ImportError) as info:
        save_png(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
    assert str(info.value) == 'PNG output needs Pillow: pip install "crbm[cli]"'
    assert os.listdir(tmp_path) == []


def test_save_each_without_pillow_writes_nothing(tmp_path, monkeypatch):
    _hide_pillow(monkeypatch)
    with pytest.raises(ImportError, match="needs Pillow"):
        save_each(tmp_path / "out", np.zeros((2, 4)))
    assert not (tmp_path / "out").exists()


# --- save_each --------------------------------------------------------------


def test_save_each_names_and_contents(tmp_path):
    images = np.zeros((12, 6))
    for k in range(12):
        images[k, k % 6] = 1
    directory = tmp_path / "nested" / "samples"
    paths = save_each(directory, images, shape=(2, 3))
    assert paths == [directory / f"{k}.png" for k in range(12)]
    assert sorted(os.listdir(directory)) == sorted(f"{k}.png" for k in range(12))
    for k, path in enumerate(paths):
        with Image.open(path) as loaded:
            assert loaded.size == (3, 2)
            expected = (images[k].reshape(2, 3) * 255).astype(np.uint8)
            np.testing.assert_array_equal(np.asarray(loaded), expected)


def test_save_each_3d_and_existing_directory(tmp_path):
    images = np.stack([np.eye(4), 1 - np.eye(4)]).astype(bool)
    first = save_each(tmp_path, images)
    assert [p.name for p in first] == ["0.png", "1.png"]
    with Image.open(first[1]) as loaded:
        np.testing.assert_array_equal(np.asarray(loaded), (1 - np.eye(4)) * 255)


def test_save_each_no_images(tmp_path):
    assert save_each(tmp_path / "empty", np.zeros((0, 4))) == []
    assert (tmp_path / "empty").is_dir()
    assert os.listdir(tmp_path / "empty") == []


def test_save_each_validates_before_writing(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        save_each(tmp_path / "out", np.zeros((3, 6)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        save_each(tmp_path / "out", np.full((3, 4), 2.0))
    assert not (tmp_path / "out").exists()
