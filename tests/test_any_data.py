"""The Monitor on data that is not MNIST: real 32x32 RGB photo patches (scikit-image's bundled
photographs; the photo is the class) and scikit-learn's 8x8 handwritten digits.

Held-out real data must be ``healthy``; one or two classes ``mode_collapse``; noise, a
constant image and heavy blur ``convergence_failure``. The thresholds were not tuned on these
sets: the verdicts come from the same rules, judged against what held-out real data of each
set scores (the bands).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

from ganwatch import Monitor
from ganwatch.metrics.suite import MetricSuite

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from real_data import digits, photo_patches  # noqa: E402

EPOCHS = 3
SAMPLES = 512


@cache
def photos() -> dict[str, np.ndarray]:
    """1,800 reference patches (NHWC uint8, as photos come) and 600 held-out ones."""
    reference, labels = photo_patches(300, "reference")
    held, held_labels = photo_patches(100, "held_out")
    return {"reference": reference, "labels": labels, "held": held, "held_labels": held_labels}


@cache
def sklearn_digits() -> dict[str, np.ndarray]:
    """The 1,797 8x8 digits (float in [0, 1]): 1,200 as the reference, the rest held out."""
    images, labels = digits()
    order = np.random.default_rng(0).permutation(len(images))
    ref, held = order[:1200], order[1200:]
    return {
        "reference": images[ref],
        "labels": labels[ref],
        "held": images[held],
        "held_labels": labels[held],
    }


def _blurred(data: dict[str, np.ndarray]) -> np.ndarray:
    held = data["held"].astype(np.float32)
    if held.ndim == 4:  # photos: a 9x9 box blur of each channel, back to uint8
        return ndimage.uniform_filter(held, size=(1, 9, 9, 1)).round().astype(np.uint8)
    return ndimage.uniform_filter(held, size=(1, 3, 3))  # 8x8 digits: 3x3 is heavy


def samples_of(case: str, data: dict[str, np.ndarray]) -> np.ndarray:
    """``SAMPLES`` samples of one case, in the reference's own layout and value range."""
    held, labels = data["held"], data["held_labels"]
    rng = np.random.default_rng(1)
    uint8 = held.dtype == np.uint8
    if case == "held_out":
        pool = held
    elif case == "one_class":
        pool = held[labels == 2]
    elif case == "two_classes":
        pool = held[(labels == 0) | (labels == 3)]
    elif case == "noise":
        noise = rng.random((SAMPLES, *held.shape[1:]))
        return (noise * 255).astype(np.uint8) if uint8 else noise.astype(np.float32)
    elif case == "constant":
        return np.full((SAMPLES, *held.shape[1:]), 128 if uint8 else 0.5, held.dtype)
    elif case == "blurred":
        pool = _blurred(data)
    else:
        raise AssertionError(case)
    return pool[rng.choice(len(pool), SAMPLES, replace=len(pool) < SAMPLES)]


def verdict_for(tmp_path: Path, data: dict[str, np.ndarray], case: str):
    """The reported verdict after three evaluations of ``case``'s samples, with losses of a
    balanced GAN (so only the measurements decide)."""
    rng = np.random.default_rng(0)
    samples = samples_of(case, data)
    with Monitor(
        reference=data["reference"], labels=data["labels"], store=tmp_path, name=case
    ) as mon:
        for _ in range(EPOCHS):
            for _ in range(10):
                mon.log_step(0.9 + 0.05 * rng.standard_normal(), 0.55, 0.5)
            verdict = mon.end_epoch(samples=samples)
    return verdict


EXPECTED = {
    "held_out": "healthy",
    "one_class": "mode_collapse",
    "two_classes": "mode_collapse",
    "noise": "convergence_failure",
    "constant": "convergence_failure",
    "blurred": "convergence_failure",
}
DATASETS = {"photos": photos, "digits": sklearn_digits}


@pytest.mark.parametrize("case", list(EXPECTED))
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_verdict_on_real_data_of_other_kinds(tmp_path, dataset, case):
    verdict = verdict_for(tmp_path, DATASETS[dataset](), case)
    assert verdict.kind == EXPECTED[case], verdict.to_dict()
    if case == "blurred":
        assert any(e.metric == "metric/detail" for e in verdict.evidence), verdict.to_dict()


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_ndb_of_held_out_data_stays_near_real_and_one_class_scores_high(dataset):
    data = DATASETS[dataset]()
    suite = MetricSuite.prepare(data["reference"], labels=data["labels"])
    band = suite.band(SAMPLES).get("metric/ndb_k")
    held = suite.ndb(samples_of("held_out", data)).ndb_k
    one = suite.ndb(samples_of("one_class", data)).ndb_k
    assert held <= band.high + 0.1, (held, band)
    assert one >= max(0.3, band.high + 0.2), (one, band)


def test_layout_and_value_range_do_not_change_the_numbers():
    """The same patches as NHWC uint8, NCHW float in [0, 1] and NCHW float in [-1, 1], for the
    reference and for the samples: a loop that trains on uint8 photos scales them itself, and
    its generator's float output is read in the range it is in."""
    data = photos()
    held = torch.from_numpy(samples_of("held_out", data))
    as_unit = lambda x: x.permute(0, 3, 1, 2).float() / 255  # noqa: E731
    as_tanh = lambda x: x.permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    reference = torch.from_numpy(data["reference"])
    values = []
    for ref, samples in (
        (reference, held),
        (reference, as_tanh(held)),
        (reference, as_unit(held)),
        (as_unit(reference), as_unit(held)),
        (as_tanh(reference), as_tanh(held)),
    ):
        suite = MetricSuite.prepare(ref, labels=data["labels"])
        values.append(suite.measure(samples, with_ndb=False)[0])
    assert values[0]["metric/realism"] > 0.9
    for other in values[1:]:
        for key, value in values[0].items():
            assert other[key] == pytest.approx(value, rel=1e-3, abs=1e-3), key


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((20, 5, 16, 16), "1 to 4 channels"),
        ((20, 3, 4, 4), "sides of 8 to 256"),
        ((20, 3, 300, 300), "sides of 8 to 256"),
    ],
)
def test_pictures_that_cannot_be_measured_are_refused(tmp_path, shape, expected):
    with pytest.raises(ValueError, match=expected):
        MetricSuite.prepare(torch.rand(shape), labels=torch.zeros(shape[0]))


def test_samples_of_another_shape_than_the_reference_are_refused():
    data = sklearn_digits()
    suite = MetricSuite.prepare(data["reference"], labels=data["labels"])
    with pytest.raises(ValueError, match=r"cannot be measured against a reference of shape"):
        suite.measure(np.zeros((10, 4, 16), np.float32))
    with pytest.raises(ValueError, match=r"labels: 5 for 1200 reference samples"):
        MetricSuite.prepare(data["reference"], labels=data["labels"][:5])


def test_a_user_classifier_gives_class_coverage():
    """A callable from images (in [-1, 1]) to class probabilities stands in for labels: here a
    logistic regression the user fitted on their own labelled digits."""
    from sklearn.linear_model import LogisticRegression

    data = sklearn_digits()
    fitted = LogisticRegression(max_iter=2000).fit(
        data["reference"].reshape(len(data["reference"]), -1), data["labels"]
    )

    def user_classifier(x: torch.Tensor) -> np.ndarray:
        return fitted.predict_proba(((x + 1) / 2).reshape(len(x), -1).numpy())

    suite = MetricSuite.prepare(data["reference"], classifier=user_classifier)
    held = suite.measure(samples_of("held_out", data), with_ndb=False)[0]
    one = suite.measure(samples_of("one_class", data), with_ndb=False)[0]
    assert held["metric/classes_covered"] == 10
    assert one["metric/classes_covered"] <= 2
    assert one["metric/class_kl"] > held["metric/class_kl"] + 1


def test_fashion_mnist_is_measured_with_its_own_classifier(tmp_path, make_mnist_folder):
    """A tiny Fashion-MNIST folder: the Monitor trains and uses the Fashion-MNIST classifier,
    never the digit one."""
    folder = make_mnist_folder("fashion-mnist", n_train=200, n_test=50)
    cache = Path(tmp_path, "cache")
    with Monitor(reference="fashion-mnist", store=tmp_path / "runs", data_dir=str(folder)) as mon:
        mon.log_step(0.9, 0.5, 0.5)
        mon.end_epoch(samples=torch.rand(64, 1, 28, 28) * 2 - 1)
        assert mon.measurement.prepared().dataset == "fashion-mnist"
    trained = sorted(p.name for p in (cache / "classifiers").glob("*.pt"))
    assert len(trained) == 1 and trained[0].startswith("fashion-mnist-"), trained


def test_measuring_leaves_the_users_random_state_alone(tmp_path, classifier_cache, real_mnist_dir):
    """The reference is prepared (embedding built, probe fitted) at the first evaluation,
    inside the user's seeded loop: their random stream must not move."""
    data = sklearn_digits()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    suite = MetricSuite.prepare(data["reference"], labels=data["labels"])
    suite.measure(samples_of("held_out", data)[:300], with_ndb=False)
    assert torch.equal(torch.rand(3), expected)
    noise = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.manual_seed(123)
    with Monitor("mnist", tmp_path, data_dir=str(real_mnist_dir)) as mon:  # builds a classifier
        mon.log_step(0.9, 0.5, 0.5)
        mon.end_epoch(samples=noise)
    assert torch.equal(torch.rand(3), expected)


def test_prepare_pays_for_the_reference_before_training(tmp_path, capsys):
    """``Monitor.prepare()`` does the reference's one-time work (and records the bands) before
    the loop; the first ``end_epoch`` then only measures."""
    data = sklearn_digits()
    mon = Monitor(data["reference"], tmp_path, labels=data["labels"]).prepare(samples=SAMPLES)
    assert "reference ready" in capsys.readouterr().err
    assert [e["kind"] for e in mon.store.events(mon.run_id, "reference")] == ["reference"]
    mon.log_step(0.9, 0.5, 0.5)
    mon.end_epoch(samples=samples_of("held_out", data))
    assert "preparing" not in capsys.readouterr().err
    assert len(mon.store.events(mon.run_id, "reference")) == 1  # the same bands, not again
    mon.close()
