"""FID against the textbook scipy computation; KID against a brute-force numpy estimator."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ganwatch.metrics.fid import feature_statistics, fid, frechet_distance, kid

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula on float64 numpy statistics with scipy.linalg.sqrtm."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def brute_mmd2(x: np.ndarray, y: np.ndarray, degree: int = 3, coef: float = 1.0) -> float:
    """Unbiased MMD^2, written as sums over i != j with explicit loops over kernel entries."""
    gamma = 1.0 / x.shape[1]
    m = len(x)

    def k(u, v):
        return (gamma * float(u @ v) + coef) ** degree

    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return kxx / (m * (m - 1)) + kyy / (m * (m - 1)) - 2 * kxy / (m * m)


@pytest.mark.parametrize(
    ("n", "dim", "shift", "scale"),
    [(500, 16, 0.0, 1.0), (300, 64, 0.3, 1.5), (2000, 32, 1.0, 0.7), (400, 48, 0.2, 1.0)],
)
def test_fid_matches_scipy(n, dim, shift, scale):
    rng = np.random.default_rng(dim)
    a = rng.standard_normal((n, dim))
    # correlated features, so the covariances are far from diagonal
    b = (rng.standard_normal((n, dim)) @ rng.standard_normal((dim, dim)) / np.sqrt(dim)) * scale
    b += shift
    assert fid(a, b) == pytest.approx(scipy_fid(a, b), rel=1e-3)


def test_fid_float32_and_torch_inputs():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((400, 20)).astype(np.float32)
    b = (rng.standard_normal((400, 20)) + 0.5).astype(np.float32)
    expected = scipy_fid(a, b)
    assert fid(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=1e-6)


def test_fid_same_distribution_small_shifted_large():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4000, 8)), rng.standard_normal((4000, 8))
    same = fid(a, b)
    shifted = fid(a, b + 1.0)
    assert same < 0.05
    assert shifted == pytest.approx(8.0, rel=0.05)  # |mu1 - mu2|^2 = 8 * 1^2
    assert fid(a, a) == pytest.approx(0.0, abs=1e-9)


def test_feature_statistics_reuse_gives_same_value():
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((600, 12)), rng.standard_normal((500, 12)) * 1.3
    mu_r, sigma_r = feature_statistics(real)
    np.testing.assert_allclose(mu_r, real.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma_r, np.cov(real, rowvar=False), rtol=1e-10, atol=1e-14)
    assert sigma_r.dtype == np.float64 and np.array_equal(sigma_r, sigma_r.T)
    reused = frechet_distance(mu_r, sigma_r, *feature_statistics(fake))
    assert reused == fid(real, fake)


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # scipy's sqrtm, not ours
def test_frechet_distance_handles_singular_covariance():
    """Constant coordinates (MNIST borders) give zero-variance directions; no fallback needed."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((300, 10)), rng.standard_normal((300, 10)) + 0.2
    a[:, :3] = b[:, :3] = 0.0
    value = fid(a, b)
    assert np.isfinite(value)
    assert value == pytest.approx(scipy_fid(a, b), rel=1e-3)


def test_frechet_distance_validates_shapes():
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full(2, np.nan), np.eye(2), np.zeros(2), np.eye(2))


def test_kid_matches_brute_force_when_subsets_cover_the_sets():
    """With subset_size = n every subset is a permutation of the whole set, so every subset
    gives the full-set estimate: mean = brute force, std = 0."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((30, 5)), rng.standard_normal((30, 5)) + 0.5
    out = kid(a, b, subsets=4, subset_size=30)
    assert out["kid_mean"] == pytest.approx(brute_mmd2(a, b), rel=1e-10)
    assert out["kid_std"] == pytest.approx(0.0, abs=1e-12)
    capped = kid(a, b, subsets=2, subset_size=1000)  # capped at the smaller set's size
    assert capped["kid_mean"] == pytest.approx(out["kid_mean"], rel=1e-12)


def test_kid_same_distribution_near_zero_shifted_clearly_positive():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((600, 16)), rng.standard_normal((600, 16))
    same = kid(a, b, subsets=10, subset_size=200)
    shifted = kid(a, b + 0.5, subsets=10, subset_size=200)
    assert abs(same["kid_mean"]) < 3 * same["kid_std"] + 1e-3
    assert shifted["kid_mean"] > 0.05 and shifted["kid_mean"] > 20 * abs(same["kid_mean"])
    assert kid(a, b, subsets=5, subset_size=100, seed=3) == kid(
        a, b, subsets=5, subset_size=100, seed=3
    )


def test_kid_validates_inputs():
    with pytest.raises(ValueError, match="dimensions"):
        kid(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        kid(np.zeros((1, 2)), np.zeros((5, 2)))
