"""PRDC against a prepared reference (radii once): the same metric as ``prdc`` and the package."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_metrics_prdc import CASES, KEYS, reference_prdc

from ganwatch.metrics.prdc import prdc
from ganwatch.metrics.prdc_reference import prdc_against, prepare_reference

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(("n_real", "n_fake", "dim", "k", "shift"), CASES)
def test_matches_the_package_and_prdc_in_float64(n_real, n_fake, dim, k, shift):
    rng = np.random.default_rng(n_real + dim)
    real = rng.standard_normal((n_real, dim))
    fake = rng.standard_normal((n_fake, dim)) * 1.2 + shift
    ours = prdc_against(prepare_reference(real, k, torch.float64), fake)
    package = reference_prdc(real, fake, k)
    joint = prdc(real, fake, k, dtype=torch.float64)
    for key in KEYS:
        assert ours[key] == pytest.approx(package[key], abs=1e-6), key
        assert ours[key] == pytest.approx(joint[key], abs=1e-12), key


def test_one_prepared_reference_serves_many_sample_sets():
    rng = np.random.default_rng(7)
    real = rng.standard_normal((500, 16)).astype(np.float32)
    prepared = prepare_reference(real, 5)
    radii = prepared.sq_radii.clone()
    for shift in (0.0, 0.3, 3.0):
        fake = (rng.standard_normal((200, 16)) + shift).astype(np.float32)
        ours = prdc_against(prepared, fake)
        truth = reference_prdc(real.astype(np.float64), fake.astype(np.float64), 5)
        for key in KEYS:  # float32: a comparison may flip within ~1e-6 of a radius
            assert ours[key] == pytest.approx(truth[key], abs=0.01), (shift, key)
    assert torch.equal(prepared.sq_radii, radii)  # never recomputed or changed
    far = prdc_against(prepared, rng.standard_normal((50, 16)) + 50.0)
    assert far["precision"] == far["coverage"] == 0.0


def test_samples_that_duplicate_the_reference_decide_ties_as_the_package():
    """Fakes copied from the reference sit exactly on other points' radii (a reference
    point's k-th neighbour is another reference point, now also a fake): strict ``<``
    leaves them out, in float32 as in the float64 package."""
    rng = np.random.default_rng(3)
    real = rng.standard_normal((400, 32)).astype(np.float32)
    fake = np.concatenate([real[:150], rng.standard_normal((50, 32)).astype(np.float32)])
    ours = prdc_against(prepare_reference(real, 5), fake)
    truth = reference_prdc(real.astype(np.float64), fake.astype(np.float64), 5)
    for key in KEYS:
        assert ours[key] == pytest.approx(truth[key], abs=1e-9), key


def test_bad_samples_are_refused():
    prepared = prepare_reference(np.zeros((20, 4)) + np.arange(20)[:, None], 5)
    with pytest.raises(ValueError, match="4"):
        prdc_against(prepared, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="more than k=5"):
        prdc_against(prepared, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        prdc_against(prepared, np.full((10, 4), np.nan))


def test_a_suite_prepares_its_reference_radii_once_for_every_evaluation(monkeypatch):
    """The Monitor measures PRDC every epoch: the reference side (its k-NN radii, the costly
    half) must be computed on the first evaluation only."""
    from ganwatch.metrics import prdc_reference
    from ganwatch.metrics.suite import MetricSuite

    calls = []
    real_prepare = prdc_reference.prepare_reference

    def counting(features, k):
        calls.append(k)
        return real_prepare(features, k)

    monkeypatch.setattr(prdc_reference, "prepare_reference", counting)
    rng = np.random.default_rng(5)
    suite = MetricSuite.prepare(rng.standard_normal((400, 2)).astype(np.float32), limit=None)
    results = [suite.prdc(rng.standard_normal((100, 2)).astype(np.float32)) for _ in range(3)]
    assert calls == [5]
    assert all(0.0 <= r["precision"] <= 1.0 for r in results)
    suite.prdc(rng.standard_normal((100, 2)).astype(np.float32), k=3)  # another k: its own
    assert calls == [5, 3]
