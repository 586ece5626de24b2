"""Tests for ganwatch.images: grids, scatter pictures and atomic PNG writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ganwatch.images import (
    REFERENCE_COLOUR,
    SAMPLE_COLOUR,
    image_grid,
    scatter_image,
    write_png,
)


def _has_colour(image: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool((image == np.array(colour, dtype=np.uint8)).all(axis=-1).any())


def test_grid_shape_for_mnist_batch() -> None:
    grid = image_grid(np.zeros((64, 1, 28, 28), np.float32), nrow=8, padding=2)
    assert grid.shape == (242, 242)
    assert grid.dtype == np.uint8


def test_grid_maps_minus_one_to_0_and_one_to_255() -> None:
    batch = np.full((4, 1, 5, 5), -1.0, np.float32)
    batch[1] = 1.0
    batch[2] = 0.0
    grid = image_grid(batch, nrow=2, padding=2)
    assert grid.shape == (2 * 7 + 2, 2 * 7 + 2)
    # Image i sits at row i // 2, column i % 2, each cell 5 pixels plus 2 of padding.
    assert (grid[2:7, 2:7] == 0).all()
    assert (grid[2:7, 9:14] == 255).all()
    assert (grid[9:14, 2:7] == 128).all()
    # Values outside [-1, 1] are clipped rather than wrapping around.
    assert image_grid(np.full((1, 1, 2, 2), 3.0), padding=0).min() == 255
    assert image_grid(np.full((1, 1, 2, 2), -3.0), padding=0).max() == 0


def test_grid_places_images_row_major_with_black_padding() -> None:
    batch = np.stack([np.full((1, 3, 3), v) for v in np.linspace(-1, 1, 6)]).astype(np.float32)
    grid = image_grid(batch, nrow=3, padding=1)
    assert grid.shape == (2 * 4 + 1, 3 * 4 + 1)
    centres = [grid[1 + r * 4 + 1, 1 + c * 4 + 1] for r in range(2) for c in range(3)]
    assert centres == sorted(centres) and centres[0] == 0 and centres[-1] == 255
    assert (grid[0, :] == 0).all() and (grid[:, 0] == 0).all()


def test_grid_three_channels_keeps_channel_order() -> None:
    batch = np.full((10, 3, 8, 8), -1.0, np.float32)
    batch[:, 0] = 1.0  # pure red
    grid = image_grid(batch, nrow=4, padding=2)
    assert grid.shape == (3 * 10 + 2, 4 * 10 + 2, 3)
    assert tuple(grid[2, 2]) == (255, 0, 0)
    assert tuple(grid[0, 0]) == (0, 0, 0)


def test_grid_accepts_torch_tensor_and_nan() -> None:
    batch = torch.tanh(torch.randn(5, 1, 4, 4, requires_grad=True))
    grid = image_grid(batch, nrow=8)
    assert grid.shape == (8, 5 * 6 + 2)
    nan_grid = image_grid(torch.full((1, 1, 2, 2), float("nan")), padding=0)
    assert (nan_grid == 128).all()


@pytest.mark.parametrize(
    "shape",
    [(1, 28, 28), (0, 1, 4, 4), (2, 2, 4, 4)],
)
def test_grid_rejects_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        image_grid(np.zeros(shape))


def test_scatter_draws_samples_and_references() -> None:
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    centres = np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1)
    rng = np.random.default_rng(0)
    samples = centres[rng.integers(0, 8, 500)] + rng.normal(0, 0.05, (500, 2))
    picture = scatter_image(torch.as_tensor(samples), centres, size=128)
    assert picture.shape == (128, 128, 3)
    assert picture.dtype == np.uint8
    assert _has_colour(picture, SAMPLE_COLOUR)
    assert _has_colour(picture, REFERENCE_COLOUR)
    # The centre of the ring is empty background.
    assert tuple(picture[60, 60]) == (255, 255, 255)


def test_scatter_frame_follows_references_and_pins_outliers() -> None:
    references = np.array([[-1.0, -1.0], [1.0, 1.0]])
    far_away = np.array([[100.0, 0.0]])
    picture = scatter_image(far_away, references, size=64)
    # Framed by the references, the outlier is pinned to the right-hand edge.
    column = picture[:, -2:]
    assert _has_colour(column, SAMPLE_COLOUR)
    assert not _has_colour(picture[:, :-2], SAMPLE_COLOUR)
    # The frame does not move when the samples do.
    empty = scatter_image(np.empty((0, 2)), references, size=64)
    mask = (empty == np.array(REFERENCE_COLOUR, np.uint8)).all(axis=-1)
    assert ((picture == np.array(REFERENCE_COLOUR, np.uint8)).all(axis=-1) == mask).all()


def test_scatter_explicit_extent_and_nan_points() -> None:
    points = np.array([[0.5, 0.5], [np.nan, 0.0]])
    picture = scatter_image(points, size=32, extent=(0.0, 1.0, 0.0, 1.0))
    ys, xs = np.nonzero((picture == np.array(SAMPLE_COLOUR, np.uint8)).all(axis=-1))
    assert set(xs.tolist()) == {16, 17} and set(ys.tolist()) == {16, 17}
    with pytest.raises(ValueError):
        scatter_image(points, extent=(1.0, 0.0, 0.0, 1.0))
    with pytest.raises(ValueError):
        scatter_image(np.zeros((3, 3)))


def test_write_png_round_trip_and_atomic(tmp_path) -> None:
    image = np.arange(12 * 10 * 3, dtype=np.uint8).reshape(12, 10, 3)
    path = write_png(tmp_path / "sub" / "a.png", image)
    with Image.open(path) as loaded:
        assert np.array_equal(np.asarray(loaded), image)
    gray = np.full((5, 7), 9, np.uint8)
    write_png(path, gray)  # overwrite in place
    with Image.open(path) as loaded:
        assert np.asarray(loaded).shape == (5, 7)
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.png"]


def test_write_png_rejects_bad_input(tmp_path) -> None:
    with pytest.raises(TypeError):
        write_png(tmp_path / "x.png", np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError):
        write_png(tmp_path / "x.png", np.zeros((4, 4, 2), np.uint8))
    assert list(tmp_path.iterdir()) == []
