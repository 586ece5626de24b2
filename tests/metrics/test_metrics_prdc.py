"""PRDC and improved precision/recall: against the ``prdc`` package, brute force, and by hand."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
from prdc import compute_prdc

from ganwatch.metrics.distances import knn_radii, knn_sq_radii, prepare_features
from ganwatch.metrics.prdc import improved_precision_recall, prdc

KEYS = ("precision", "recall", "density", "coverage")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints the set sizes
        return {key: float(v) for key, v in compute_prdc(real, fake, k).items()}


def brute_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))


def brute_radii(x: np.ndarray, k: int) -> np.ndarray:
    """k-th nearest other point, by sorting each row with the self-distance removed."""
    d = brute_distances(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def brute_ipr(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    d = brute_distances(real, fake)
    precision = (d <= brute_radii(real, k)[:, None]).any(axis=0).mean()
    recall = (d <= brute_radii(fake, k)[None, :]).any(axis=1).mean()
    return {"precision": float(precision), "recall": float(recall)}


CASES = [  # n_real, n_fake, dim, k, shift of the fake distribution
    (300, 250, 8, 5, 0.0),
    (257, 301, 3, 3, 0.5),
    (400, 400, 64, 5, 0.2),
    (120, 90, 16, 10, 2.0),
    (40, 33, 2, 1, 0.0),
]


@pytest.mark.parametrize(("n_real", "n_fake", "dim", "k", "shift"), CASES)
def test_prdc_matches_package_float64(n_real, n_fake, dim, k, shift):
    rng = np.random.default_rng(n_real + dim)
    real = rng.standard_normal((n_real, dim))
    fake = rng.standard_normal((n_fake, dim)) * 1.2 + shift
    ours = prdc(real, fake, k, dtype=torch.float64)
    ref = reference_prdc(real, fake, k)
    for key in KEYS:
        assert ours[key] == pytest.approx(ref[key], abs=1e-6), key
    assert all(isinstance(v, float) for v in ours.values())


def test_prdc_float32_default_close_to_package():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((500, 32)).astype(np.float32)
    fake = (rng.standard_normal((500, 32)) + 0.3).astype(np.float32)
    ours, ref = prdc(real, fake, 5), reference_prdc(real, fake, 5)
    for key in KEYS:  # a flipped comparison would move a metric by ~1/500
        assert ours[key] == pytest.approx(ref[key], abs=5e-3), key


def test_prdc_torch_input_and_images_are_flattened():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((100, 1, 4, 4))
    fake = rng.standard_normal((90, 1, 4, 4)) + 0.5
    ours = prdc(torch.from_numpy(real), torch.from_numpy(fake), 3, dtype=torch.float64)
    ref = reference_prdc(real.reshape(100, -1), fake.reshape(90, -1), 3)
    for key in KEYS:
        assert ours[key] == pytest.approx(ref[key], abs=1e-6)


def test_prdc_identical_sets_and_far_sets():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((200, 5))
    same = prdc(real, real.copy(), 5, dtype=torch.float64)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = prdc(real, real + 100.0, 5, dtype=torch.float64)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_detects_mode_collapse():
    """Fakes from one of two real clusters: high precision, recall/coverage about halved."""
    rng = np.random.default_rng(4)
    real = np.concatenate([rng.standard_normal((300, 4)), rng.standard_normal((300, 4)) + 20])
    fake = rng.standard_normal((600, 4))
    out = prdc(real, fake, 5, dtype=torch.float64)
    assert out["precision"] > 0.9
    assert 0.4 < out["coverage"] <= 0.5 and out["recall"] <= 0.5


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_chunking_does_not_change_results(dtype):
    rng = np.random.default_rng(5)
    real = rng.standard_normal((150, 12))
    fake = rng.standard_normal((131, 12)) + 0.4
    one = prdc(real, fake, 4, dtype=dtype, row_chunk=10_000, col_chunk=10_000)
    one_ipr = improved_precision_recall(real, fake, dtype=dtype, row_chunk=10_000)
    # tiny tiles, tiles that are not multiples of the selection group size, single rows
    for row_chunk, col_chunk in [(1, 7), (7, 19), (64, 48), (5, 160), (150, 1)]:
        chunks = {"row_chunk": row_chunk, "col_chunk": col_chunk}
        assert prdc(real, fake, 4, dtype=dtype, **chunks) == one
        assert improved_precision_recall(real, fake, dtype=dtype, **chunks) == one_ipr


@pytest.mark.parametrize("col_chunk", [10_000, 160, 17, 3])
def test_knn_radii_match_brute_force(col_chunk):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 6))
    x[10] = x[11]  # a duplicate pair: each is the other's nearest neighbour at 0
    for k in (1, 3, 7):
        radii = knn_radii(x, k, dtype=torch.float64, row_chunk=37, col_chunk=col_chunk)
        np.testing.assert_allclose(radii.numpy(), brute_radii(x, k), rtol=1e-9, atol=1e-12)
    assert knn_radii(x, 1, dtype=torch.float64)[10] == 0.0


def test_knn_radii_float32_close_to_float64():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((400, 50)) * 3 + 10  # offset: centring keeps float32 accurate
    r32 = knn_radii(x, 5).double()
    r64 = knn_radii(x, 5, dtype=torch.float64)
    assert r32.dtype == torch.float64 and torch.allclose(r32, r64, rtol=1e-5)


def test_prepare_features_keeps_distances_and_drops_constant_columns():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((20, 5)), rng.standard_normal((15, 5))
    x[:, 2] = y[:, 2] = 7.0
    px, py = prepare_features(x, y, dtype=torch.float64)
    assert px.shape == (20, 4) and py.shape == (15, 4)
    np.testing.assert_allclose(torch.cdist(px, py).numpy(), brute_distances(x, y), rtol=1e-12)


def test_knn_sq_radii_rejects_too_few_points():
    (x,) = prepare_features(np.zeros((3, 2)) + np.arange(3)[:, None], dtype=torch.float64)
    with pytest.raises(ValueError, match="k-NN"):
        knn_sq_radii(x, 3)
    with pytest.raises(ValueError, match="more than k"):
        prdc(np.random.rand(5, 2), np.random.rand(50, 2), k=5)


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="same dimension"):
        prdc(np.random.rand(10, 3), np.random.rand(10, 4), k=2)
    bad = np.random.rand(10, 3)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        prdc(bad, np.random.rand(10, 3), k=2)
    with pytest.raises(ValueError, match="shape"):
        prdc(np.random.rand(10), np.random.rand(10), k=2)


def test_improved_pr_known_answers():
    rng = np.random.default_rng(9)
    real = rng.standard_normal((150, 3))
    assert improved_precision_recall(real, real.copy()) == {"precision": 1.0, "recall": 1.0}
    assert improved_precision_recall(real, real + 50) == {"precision": 0.0, "recall": 0.0}
    # Fakes on one of two real clusters: all fakes realistic, half of the reals missed.
    two = np.concatenate([real, real + 50])
    out = improved_precision_recall(two, real + 0.001)
    assert out["precision"] == 1.0 and out["recall"] == pytest.approx(0.5)


def test_improved_pr_uses_inclusive_comparison():
    """Four points on a line, k=1: a fake exactly at the radius counts (the authors' <=)."""
    real = np.array([[0.0], [1.0], [3.0], [6.0]])  # 1-NN radii: 1, 1, 2, 3
    fake = np.array([[-1.0], [10.0], [20.0], [30.0]])  # -1 is at distance 1 from 0
    out = improved_precision_recall(real, fake, k=1, dtype=torch.float64)
    assert out["precision"] == 0.25
    strict = prdc(real, fake, k=1, dtype=torch.float64)
    assert strict["precision"] == 0.0


@pytest.mark.parametrize("k", [1, 3, 5])
def test_improved_pr_matches_brute_force(k):
    rng = np.random.default_rng(10 + k)
    real = rng.standard_normal((180, 7))
    fake = rng.standard_normal((140, 7)) * 0.8 + 0.3
    ours = improved_precision_recall(real, fake, k=k, dtype=torch.float64, row_chunk=50)
    brute = brute_ipr(real, fake, k)
    assert ours["precision"] == pytest.approx(brute["precision"], abs=1e-12)
    assert ours["recall"] == pytest.approx(brute["recall"], abs=1e-12)
