"""Realism and the real-data bands: what real digits score, and what degenerate samples do."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganwatch.data.loader import scale_images
from ganwatch.metrics.bands import Band, Bands, measure_bands
from ganwatch.metrics.realism import PIXEL_VALUES, Typicality, nearest_distances, pixel_rows
from ganwatch.metrics.suite import MetricSuite


def test_nearest_distances_equal_a_direct_computation() -> None:
    rng = torch.Generator().manual_seed(0)
    query, reference = torch.randn(1500, 7, generator=rng), torch.randn(300, 7, generator=rng)
    direct = torch.cdist(query.double(), reference.double()).min(dim=1).values
    np.testing.assert_allclose(nearest_distances(query, reference), direct, rtol=1e-5, atol=1e-5)


def test_typicality_of_two_clusters_by_hand() -> None:
    # Two groups: tight points around 0 (gaps 1) and loose points around 100 (gaps 10).
    tight = torch.arange(40.0).reshape(-1, 1)
    loose = 1000 + 10 * torch.arange(40.0).reshape(-1, 1)
    features = torch.cat([tight, loose])
    groups = torch.tensor([0] * 40 + [1] * 40)
    typ = Typicality.fit(features, groups, 2)
    assert typ.thresholds.tolist() == pytest.approx([1.0, 10.0])
    assert typ.ink_low is None  # features only, not images
    query = torch.tensor([[10.5], [15.0], [1005.0], [5000.0]])
    # 0.5 and 5 from the nearest point: typical in the loose group, only 0.5 in the tight one
    assert typ.typical(query, torch.tensor([0, 0, 1, 1])).tolist() == [True, True, True, False]
    assert typ.typical(torch.tensor([[1005.0]]), torch.tensor([0])).tolist() == [False]
    assert typ.share(query, torch.tensor([0, 0, 1, 1])) == pytest.approx(0.75)


def test_band_of_values_and_round_trip() -> None:
    band = Band.of([1.0, 2.0, 3.0, math.nan])
    assert (band.mean, band.low, band.high) == (2.0, 1.0, 3.0)
    assert band.std == pytest.approx(1.0)
    bands = measure_bands(lambda rows: {"x": float(sum(rows))}, pool=10, n=3, draws=4)
    assert (bands.n, bands.draws) == (3, 4)
    assert Bands.from_dict(bands.to_dict()) == bands
    with pytest.raises(ValueError, match="held-out pool"):
        measure_bands(lambda rows: {}, pool=2, n=3)


@pytest.fixture(scope="module")
def digits_suite(trained_classifier, mnist_test, real_mnist_dir):
    """A suite over 6,000 real test digits (4,000 reference, 2,000 held out), and the other
    4,000 as fresh real samples. The split is shuffled first: its two halves come from
    different writers, and fresh digits must be from the same distribution as the reference."""
    order = np.random.default_rng(0).permutation(len(mnist_test.images))
    images = scale_images(torch.from_numpy(mnist_test.images[order]).unsqueeze(1), "cpu")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
        suite = MetricSuite.prepare(
            images[:6000], dataset="mnist", data_dir=str(real_mnist_dir), held_out=2000
        )
        suite.classifier()
        yield suite, images[6000:], torch.from_numpy(mnist_test.labels[order][6000:])


def test_the_suite_holds_real_data_out_for_the_bands(digits_suite) -> None:
    suite, _, _ = digits_suite
    assert (len(suite.reference), len(suite.held_out)) == (4000, 2000)
    assert suite.evaluation_count(512) == 512 and suite.evaluation_count(5000) == 2000


def test_real_digits_are_realistic_and_degenerate_ones_are_not(digits_suite) -> None:
    suite, fresh, labels = digits_suite
    real = suite.realism(fresh[:512])
    assert real > 0.95
    blank = -torch.ones(512, 1, 28, 28)
    noise = torch.rand(512, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    faint = fresh[:512] * 0.3 - 0.7  # contrast-reduced digits
    assert suite.realism(blank) < 0.05 and suite.realism(noise) < 0.05
    assert suite.realism(faint) < 0.8


def test_pixel_realism_keeps_real_digits_and_drops_speckled_ones(digits_suite) -> None:
    suite, fresh, labels = digits_suite
    assert suite.pixel_realism(fresh[:512]) > 0.95
    assert suite.pixel_realism(fresh[labels == 7][:300]) > 0.95  # one class: a crisp collapse
    generator = torch.Generator().manual_seed(0)

    def speckled(share: float) -> torch.Tensor:
        hit = torch.rand(fresh[:512].shape, generator=generator) < share
        return torch.where(hit, torch.rand(hit.shape, generator=generator) * 2 - 1, fresh[:512])

    light, heavy = suite.pixel_realism(speckled(0.1)), suite.pixel_realism(speckled(0.3))
    assert 0.5 < light < 0.95 and heavy < 0.1
    # A blank image lies close to thin real 1s in pixels: realism's ink test keeps it out.
    blank = -torch.ones(512, 1, 28, 28)
    assert suite.pixel_realism(blank) > 0.9 and suite.realism(blank) < 0.05


def test_pixel_rows_pool_large_pictures_and_keep_digits() -> None:
    digits = torch.rand(3, 1, 28, 28)
    assert torch.equal(pixel_rows(digits), digits.flatten(1))
    photos = torch.rand(2, 3, 64, 64)
    rows = pixel_rows(photos)
    assert rows.shape == (2, 3 * 16 * 16)  # pooled by 4, the smallest factor under the limit
    assert torch.allclose(rows.mean(dim=1), photos.flatten(1).mean(dim=1), atol=1e-6)
    # A side the factor does not divide keeps every pixel: a bright last row still counts.
    odd = torch.zeros(1, 3, 33, 33)
    odd[..., -1, :] = 1.0
    rows = pixel_rows(odd)
    assert rows.shape == (1, 3 * 17 * 17) and rows.shape[1] <= PIXEL_VALUES < 3 * 33 * 33
    assert rows.max() > 0


def test_pixel_realism_is_only_for_pictures() -> None:
    ring = MetricSuite.prepare(torch.randn(300, 2), held_out=0)
    assert math.isnan(ring.pixel_realism(torch.randn(50, 2)))


def test_one_class_of_real_digits_stays_realistic(digits_suite) -> None:
    suite, fresh, labels = digits_suite
    sevens = fresh[labels == 7][:300]
    assert suite.realism(sevens) > 0.9


def test_bands_of_held_out_digits_contain_fresh_real_digits(digits_suite) -> None:
    suite, fresh, labels = digits_suite
    bands = suite.band(500)
    assert bands.n == 500 and bands.draws == 5
    values, _ = suite.measure(fresh[:500])
    coverage = bands.get("metric/coverage")
    # coverage depends on the count: real data at 500 samples is far below 1, and the fresh
    # real digits fall inside (or near) what the held-out ones score
    assert 0.1 < coverage.mean < 0.6
    assert abs(values["metric/coverage"] - coverage.mean) < 4 * coverage.std + 0.03
    assert bands.get("metric/realism").low > 0.9
    assert suite.band(500) is bands  # computed once per count
