"""The prepared reference on disk: a second process measures exactly what the first did,
without preparing the reference again; what cannot be cached or read is prepared afresh."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from ganwatch.metrics import prepared_cache
from ganwatch.monitor import measure as measure_module
from ganwatch.monitor.measure import Measurement


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's real 8x8 digits in [0, 1]: reference, its labels, and other digits."""
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)
    return images[:1200], data.target[:1200], images[1200:1712]


def _fresh_process() -> None:
    """Forget the suites this process prepared, as a new process would not have them."""
    measure_module._SHARED.clear()


def _measure(reference, labels, samples, **options):
    _fresh_process()
    measurement = Measurement(reference, options={"labels": labels, **options}, say=lambda _: None)
    bands = []
    values, ndb = measurement.measure(samples, None, None, bands.append)
    return measurement, values, ndb, bands


def test_a_second_process_reads_the_prepared_reference_and_measures_the_same(digits) -> None:
    reference, labels, samples = digits
    first, values, ndb, bands = _measure(reference, labels, samples)
    files = list(prepared_cache.cache_dir().glob("*.pt"))
    assert len(files) == 1
    stored = torch.load(files[0], weights_only=True)  # tensors and plain values only
    assert {"features", "reference", "typicality", "pool", "probe"} <= set(stored["entries"])

    written = files[0].stat().st_mtime_ns
    second, again, ndb_again, bands_again = _measure(reference, labels, samples)
    assert second._from_disk >= {"features", "typicality", "probe", "prdc-5"}
    assert files[0].stat().st_mtime_ns == written  # all it needed was there: not rewritten
    assert again == values
    assert ndb_again.to_dict() == ndb.to_dict()
    assert bands_again == bands and bands  # the held-out bands, measured once, read back


def test_pixel_realism_thresholds_are_kept_without_a_second_copy_of_the_reference(digits):
    """Small pictures' pixel rows are the reference itself, reshaped: the file keeps their
    shape, and the entry read back is a view of the reference, not a copy of it."""
    reference, labels, samples = digits
    first, values, _, _ = _measure(reference, labels, samples)
    (file,) = prepared_cache.cache_dir().glob("*.pt")
    stored = torch.load(file, weights_only=True)["entries"]["pixel_typicality"]
    kept = len(first.suite.reference)  # two thirds of the 1,200: the rest is held out
    assert stored["fields"]["reference"] == {"__reference_rows__": [kept, 64]}
    second, again, _, _ = _measure(reference, labels, samples)
    assert "pixel_typicality" in second._from_disk
    rows = second.suite._cache["pixel_typicality"].reference
    assert rows.shape == (kept, 64) and rows.data_ptr() == second.suite.reference.data_ptr()
    assert again["metric/pixel_realism"] == values["metric/pixel_realism"] > 0.9


def test_another_reference_or_seed_is_another_file(digits) -> None:
    reference, labels, samples = digits
    _measure(reference, labels, samples)
    _measure(reference[:1000], labels[:1000], samples)
    assert len(list(prepared_cache.cache_dir().glob("*.pt"))) == 2
    _fresh_process()
    suite = Measurement(reference, options={"labels": labels}).prepared()
    key = prepared_cache.cache_key(suite)
    suite.seed = 1
    assert prepared_cache.cache_key(suite) != key


def test_an_unreadable_cache_file_is_replaced_and_the_numbers_do_not_change(digits) -> None:
    reference, labels, samples = digits
    _, values, _, _ = _measure(reference, labels, samples)
    (path,) = prepared_cache.cache_dir().glob("*.pt")
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="unreadable prepared-reference cache"):
        second, again, _, _ = _measure(reference, labels, samples)
    assert second._from_disk == set()
    assert again == values
    assert torch.load(path, weights_only=True)["format"] == prepared_cache.FORMAT  # rewritten


def test_a_users_classifier_is_never_cached(digits) -> None:
    reference, _, samples = digits

    def classify(x: torch.Tensor) -> np.ndarray:
        return np.full((len(x), 2), 0.5, dtype=np.float32)

    _measure(reference, None, samples, classifier=classify)
    assert not prepared_cache.cache_dir().exists() or not any(
        prepared_cache.cache_dir().glob("*.pt")
    )


def test_real_mnist_digits_measure_the_same_from_the_cache(
    classifier_cache, mnist_test, tmp_path, monkeypatch
) -> None:
    """The built-in digit classifier's features and classes, and NDB's bins, read back."""
    monkeypatch.setattr(prepared_cache, "cache_dir", lambda: tmp_path / "prepared")
    reference = mnist_test.images[:3000]
    samples = mnist_test.images[9000:9512]
    _fresh_process()
    first = Measurement(reference, say=lambda _: None)
    values, ndb = first.measure(samples, None, None, lambda _: None)
    _fresh_process()
    second = Measurement(reference, say=lambda _: None)
    again, ndb_again = second.measure(samples, None, None, lambda _: None)
    assert {"features", "bins100", "typicality"} <= second._from_disk
    assert again == values and ndb_again.to_dict() == ndb.to_dict()


def test_a_cache_that_cannot_be_written_costs_only_a_warning(digits, monkeypatch) -> None:
    reference, labels, samples = digits

    def full_disk(*args, **kwargs):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(prepared_cache.torch, "save", full_disk)
    with pytest.warns(UserWarning, match="could not write the prepared-reference cache"):
        _, values, _, _ = _measure(reference, labels, samples)
    assert values["metric/realism"] > 0.5  # the epoch was measured all the same
    assert not any(prepared_cache.cache_dir().iterdir())  # no torn temporary file left
