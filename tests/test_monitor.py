"""The Monitor: driven from the article's own loop, and judged on samples standing in for a
generator against the MNIST training split."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn, optim

import ganwatch
from article_reference import ArticleDiscriminator, ArticleGenerator
from ganwatch.data import load_dataset
from ganwatch.diagnose import Verdict
from ganwatch.diagnose.stopping import StopRule, stop_rule
from ganwatch.monitor import Monitor
from ganwatch.store import RunStore


def test_monitor_in_the_articles_loop(tmp_path, classifier_cache, real_mnist_dir):
    """The article's loop, as published (models, BCELoss on sigmoid outputs, separate real
    and fake backward passes), with only the monitor lines marked # + added: five, with the
    ``import ganwatch`` at the top of this file."""
    train_images = load_dataset("mnist", data_dir=real_mnist_dir, size=256).data
    batch_size, sample_size, latent_dim, k, epochs = 64, 64, 16, 1, 2

    torch.manual_seed(0)
    generator, discriminator = ArticleGenerator(latent_dim), ArticleDiscriminator()
    optim_g = optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optim_d = optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))
    criterion = nn.BCELoss()

    def train_discriminator(optimizer, data_real, data_fake):
        b = data_real.size(0)
        optimizer.zero_grad()
        output_real = discriminator(data_real)
        loss_real = criterion(output_real, torch.ones(b, 1))
        output_fake = discriminator(data_fake)
        loss_fake = criterion(output_fake, torch.zeros(b, 1))
        loss_real.backward()
        loss_fake.backward()
        optimizer.step()
        return loss_real, loss_fake, output_real.mean(), output_fake.mean()

    def train_generator(optimizer, data_fake):
        optimizer.zero_grad()
        loss = criterion(discriminator(data_fake), torch.ones(data_fake.size(0), 1))
        loss.backward()
        optimizer.step()
        return loss

    noise = torch.randn(sample_size, latent_dim)
    mon = ganwatch.Monitor(train_images, tmp_path, "article", data_dir=str(real_mnist_dir))  # +
    for _epoch in range(epochs):
        for i in range(0, len(train_images), batch_size):
            image = train_images[i : i + batch_size]
            for _ in range(k):
                data_fake = generator(torch.randn(len(image), latent_dim)).detach()
                loss_real, loss_fake, d_x, d_gz = train_discriminator(optim_d, image, data_fake)
            loss_g = train_generator(optim_g, generator(torch.randn(len(image), latent_dim)))
            mon.log_step(loss_g, loss_real, loss_fake, d_real=d_x, d_fake=d_gz)  # +
        verdict = mon.end_epoch(samples=generator(noise).detach())  # +
    mon.close()  # +

    with RunStore(tmp_path) as store:
        run = store.get_run("article")
        assert run.status == "finished"
        steps = store.step_metrics(run.id)
        assert list(steps["loss/g"][0]) == list(range(1, 9))
        assert "grad/g" not in steps  # not given, not invented
        epochs_rows = store.epoch_metrics(run.id)
        assert [r["epoch"] for r in epochs_rows] == [1, 2]
        for key in (
            "metric/classes_covered",
            "metric/precision",
            "metric/fid",
            "metric/diversity",
            "metric/ndb_k",
        ):
            assert key in epochs_rows[0], key
        assert epochs_rows[0]["loss/g"] == pytest.approx(steps["loss/g"][1][:4].mean())
        verdicts = store.events(run.id, "verdict")
        assert verdicts and verdicts[-1]["payload"]["kind"] == verdict.kind
        assert store.images(run.id, "ndb")  # the NDB bins chart of the first evaluation


def _losses(mon: Monitor, steps: int, rng: np.random.Generator) -> None:
    """Settled losses of a balanced GAN (around ln 2), a little noisy."""
    for _ in range(steps):
        mon.log_step(
            loss_g=0.75 + 0.05 * rng.standard_normal(),
            loss_d_real=0.65 + 0.05 * rng.standard_normal(),
            loss_d_fake=0.65 + 0.05 * rng.standard_normal(),
            d_real=0.52,
            d_fake=0.48,
        )


def _judge(tmp_path, reference, samples_for_epoch, real_mnist_dir, epochs=3):
    rng = np.random.default_rng(0)
    mon = Monitor(
        reference=reference,
        store=tmp_path,
        name="stand-in",
        data_dir=str(real_mnist_dir),
        eval_samples=None,
    )
    for epoch in range(epochs):
        _losses(mon, 20, rng)
        verdict = mon.end_epoch(samples=samples_for_epoch(epoch))
    mon.close()
    return verdict


@pytest.fixture(scope="module")
def mnist_split(real_mnist_dir):
    data = load_dataset("mnist", data_dir=real_mnist_dir)
    return data.data[:13_797], data.data[13_797:], data.labels[13_797:]


@pytest.mark.slow
def test_held_out_real_digits_are_healthy(tmp_path, classifier_cache, real_mnist_dir, mnist_split):
    reference, held_out, _ = mnist_split
    verdict = _judge(
        tmp_path, reference, lambda e: held_out[e * 2000 : (e + 1) * 2000], real_mnist_dir
    )
    assert verdict.kind == "healthy", verdict.to_dict()


@pytest.mark.parametrize("count", [256, 1000, 5000])
@pytest.mark.slow
def test_real_test_digits_are_healthy_by_the_third_evaluation_at_any_count(
    tmp_path, classifier_cache, real_mnist_dir, mnist_test, count
):
    """Real digits against the whole training split, with article-like losses: healthy, at
    every sample count, because each metric is judged against what held-out real data scores
    at that count (coverage alone goes from 0.12 at 256 to 0.87 at 5,000)."""
    order = np.random.default_rng(count).permutation(len(mnist_test.images))
    digits = torch.from_numpy(mnist_test.images[order]).unsqueeze(1)  # uint8, as stored
    rng = np.random.default_rng(0)
    mon = Monitor("mnist", tmp_path, "real", data_dir=str(real_mnist_dir))
    kinds = []
    for epoch in range(3):
        _losses(mon, 20, rng)
        start = (epoch * count) % (len(digits) - count)
        kinds.append(mon.end_epoch(samples=digits[start : start + count]).kind)
    mon.close()
    assert kinds[-1] == "healthy", kinds


def test_two_digit_classes_are_mode_collapse(
    tmp_path, classifier_cache, real_mnist_dir, mnist_split
):
    reference, held_out, labels = mnist_split
    two = held_out[(labels == 3) | (labels == 7)]
    verdict = _judge(tmp_path, reference, lambda e: two[e * 600 : (e + 1) * 600], real_mnist_dir)
    assert verdict.kind == "mode_collapse", verdict.to_dict()
    assert any(e.metric == "metric/classes_covered" for e in verdict.evidence)
    assert verdict.remedies and all(r.text for r in verdict.remedies)


def test_uniform_noise_is_convergence_failure(
    tmp_path, classifier_cache, real_mnist_dir, mnist_split
):
    reference, _, _ = mnist_split
    noise = torch.rand(3 * 1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    verdict = _judge(
        tmp_path, reference, lambda e: noise[e * 1000 : (e + 1) * 1000], real_mnist_dir
    )
    assert verdict.kind == "convergence_failure", verdict.to_dict()


def test_nan_loss_is_divergence_without_a_crash(tmp_path):
    mon = Monitor(reference=None, store=tmp_path, name="nan", stop_on=["divergence"])
    rng = np.random.default_rng(0)
    _losses(mon, 10, rng)
    assert mon.end_epoch().kind in ("warming_up", "healthy")
    _losses(mon, 3, rng)
    mon.log_step(loss_g=float("nan"), loss_d_real=0.7, loss_d_fake=0.7)
    verdict = mon.end_epoch()
    assert verdict.kind == "divergence" and verdict.since_step == 14
    assert mon.should_stop
    mon.close()
    with RunStore(tmp_path) as store:
        run = store.get_run("nan")
        assert run.status == "diverged"
        assert np.isnan(store.step_metrics(run.id)["loss/g"][1][-1])  # the evidence is kept


def test_stop_on_rejects_unknown_verdicts(tmp_path):
    with pytest.raises(ValueError, match="--stop-on"):
        Monitor(store=tmp_path, stop_on=["sad"])


# Toy-data metrics handed to the Monitor as extras: the detectors read them like measured ones.
ALL_MODES = {"metric/modes_captured": 8.0, "metric/modes": 8.0, "metric/high_quality": 0.9}
# A mode collapse with a quarter of the samples on modes: past toy_min_quality, so a collapse,
# but short of a healthy run's share, so not firm: it waits to be confirmed.
FEW_MODES = {**ALL_MODES, "metric/modes_captured": 3.0, "metric/high_quality": 0.25}
# The same collapse with most samples on the modes: firm, reported at once.
FIRM_FEW_MODES = {**ALL_MODES, "metric/modes_captured": 3.0}
OFF_MODES = {**ALL_MODES, "metric/high_quality": 0.05}  # convergence failure


def _epoch(mon: Monitor, extra: dict[str, float], rng: np.random.Generator) -> Verdict:
    _losses(mon, 5, rng)
    return mon.end_epoch(extra=extra)


def test_a_flapping_diagnosis_is_reported_steadily_and_recorded_raw(tmp_path):
    changes: list[tuple[str | None, str]] = []
    mon = Monitor(
        reference=None,
        store=tmp_path,
        name="flap",
        stop_on=["mode_collapse"],
        on_verdict=lambda new, old: changes.append((old.kind if old else None, new.kind)),
    )
    rng = np.random.default_rng(0)
    # too early for healthy at the first epoch, then a run that flaps between two failures
    sequence = [ALL_MODES, OFF_MODES, FEW_MODES, OFF_MODES, FEW_MODES]
    reported = [_epoch(mon, extra, rng) for extra in sequence]
    assert [v.kind for v in reported] == ["warming_up"] + ["convergence_failure"] * 4
    assert [v.found_kind for v in reported[1:]] == [
        "convergence_failure",
        "mode_collapse",
        "convergence_failure",
        "mode_collapse",
    ]
    assert not mon.should_stop  # an unconfirmed collapse does not stop the run
    assert changes == [(None, "warming_up"), ("warming_up", "convergence_failure")]
    with RunStore(tmp_path) as store:
        payloads = [e["payload"] for e in store.events(store.get_run("flap").id, "verdict")]
    assert [(p["epoch"], p["kind"], p["raw_kind"]) for p in payloads] == [
        (1, "warming_up", "warming_up"),
        (2, "convergence_failure", "convergence_failure"),
        (3, "convergence_failure", "mode_collapse"),
        (4, "convergence_failure", "convergence_failure"),
        (5, "convergence_failure", "mode_collapse"),
    ]
    assert {p["since_step"] for p in payloads[1:]} == {10}  # since the reported kind holds
    # A collapse with most samples on the modes is firm: it replaces the held convergence
    # failure at once, and stops the run.
    verdict = _epoch(mon, FIRM_FEW_MODES, rng)
    assert (verdict.kind, verdict.raw_kind, verdict.firm) == ("mode_collapse", None, True)
    assert mon.should_stop
    assert changes[-1] == ("convergence_failure", "mode_collapse")
    mon.close()


def test_a_confirmed_change_is_reported_and_a_resumed_monitor_keeps_counting(tmp_path):
    rng = np.random.default_rng(0)
    mon = Monitor(reference=None, store=tmp_path, name="change", stop_on=["mode_collapse"])
    for extra in (ALL_MODES, OFF_MODES, OFF_MODES, FEW_MODES):
        verdict = _epoch(mon, extra, rng)
    assert (verdict.kind, verdict.raw_kind) == ("convergence_failure", "mode_collapse")
    run_id, step = mon.run_id, mon.step
    mon.close()

    # A resume: a new Monitor on the same run knows the collapse was already found once.
    resumed = Monitor(
        reference=None, store=tmp_path, run_id=run_id, step=step, epoch=4, stop_on=["mode_collapse"]
    )
    verdict = _epoch(resumed, FEW_MODES, rng)
    assert (verdict.kind, verdict.epoch, verdict.since_step) == ("mode_collapse", 5, 20)
    assert resumed.should_stop
    resumed.close()


def test_divergence_is_reported_at_once_after_a_steady_verdict(tmp_path):
    rng = np.random.default_rng(0)
    mon = Monitor(reference=None, store=tmp_path, name="nan-after", stop_on=["divergence"])
    for extra in (ALL_MODES, ALL_MODES, ALL_MODES):
        assert _epoch(mon, extra, rng).kind in ("warming_up", "healthy")
    mon.log_step(loss_g=float("inf"), loss_d_real=0.7, loss_d_fake=0.7)
    assert mon.end_epoch(extra=ALL_MODES).kind == "divergence"
    assert mon.should_stop
    mon.close()


def test_stop_confidence_stops_only_on_a_verdict_said_that_surely(tmp_path):
    """A collapse of the toy data is said with min(its signals, its track record): a floor
    above that lets the run go on, one below stops it at the same epoch."""
    rng = np.random.default_rng(0)
    stopped = {}
    for floor in (0.0, 0.5, 0.99):
        mon = Monitor(
            reference=None,
            store=tmp_path,
            name=f"floor-{floor}",
            stop_on=["mode_collapse"],
            stop_confidence=floor,
        )
        verdicts = [_epoch(mon, FEW_MODES, rng) for _ in range(3)]
        assert verdicts[-1].kind == "mode_collapse"
        stopped[floor] = (mon.should_stop, verdicts[-1].confidence)
        mon.close()
    confidence = stopped[0.0][1]
    assert 0.5 <= confidence < 0.99
    assert stopped == {0.0: (True, confidence), 0.5: (True, confidence), 0.99: (False, confidence)}
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="--stop-confidence"):
            Monitor(store=tmp_path, stop_on=["mode_collapse"], stop_confidence=bad)


def test_a_follower_rank_stops_by_the_same_rule(monkeypatch):
    from ganwatch.monitor import distributed

    collapse = Verdict("mode_collapse", 3, 30, 10, 0.43)
    monkeypatch.setattr(distributed, "shared_verdict", lambda verdict: collapse)
    on_collapse = StopRule(verdicts=("mode_collapse",))
    assert distributed.FollowerMonitor(on_collapse).end_epoch() is collapse
    follower = distributed.FollowerMonitor(on_collapse)
    follower.end_epoch()
    assert follower.should_stop
    unsure = StopRule(verdicts=("mode_collapse",), min_confidence=0.5)
    early = StopRule(verdicts=("mode_collapse",), min_epochs=4)
    for rule in (unsure, early):
        follower = distributed.FollowerMonitor(rule)
        follower.end_epoch()
        assert not follower.should_stop
    default = distributed.FollowerMonitor()
    default.end_epoch()
    assert not default.should_stop  # no --stop-on: never


def test_the_stop_rule_names_kinds_a_confidence_and_a_first_epoch() -> None:
    collapse = Verdict("mode_collapse", 3, 30, 10, 0.43)
    assert StopRule(verdicts=("mode_collapse", "divergence")).stops(collapse)
    assert StopRule(verdicts=("mode_collapse",), min_epochs=3, min_confidence=0.43).stops(collapse)
    assert not StopRule(verdicts=("mode_collapse",), min_confidence=0.5).stops(collapse)
    assert not StopRule(verdicts=("mode_collapse",), min_epochs=4).stops(collapse)  # grace
    assert not StopRule(verdicts=("convergence_failure",)).stops(collapse)
    assert not StopRule(verdicts=("mode_collapse",)).stops(None)
    divergence = Verdict("divergence", 3, 30, 25, 1.0)
    assert StopRule(verdicts=("divergence",), min_confidence=1.0).stops(divergence)
    rule = stop_rule(stop_on=["divergence"], stop_min_epochs=np.int64(2), eval_every=3)
    assert rule == StopRule(verdicts=("divergence",), min_epochs=2)
    assert type(rule.min_epochs) is int
    for bad, flag in (
        ({"stop_on": ["sad"]}, "--stop-on"),
        ({"stop_confidence": 1.5}, "--stop-confidence"),
        ({"stop_min_epochs": 0}, "--stop-min-epochs"),
        ({"stop_min_epochs": 2.5}, "--stop-min-epochs"),
        ({"stop_min_epochs": True}, "--stop-min-epochs"),
    ):
        with pytest.raises(ValueError, match=flag):
            stop_rule(**bad)


def test_stop_min_epochs_lets_the_first_epochs_pass(tmp_path):
    """A failure found from the first epoch stops the run only once the grace period ends:
    the verdict is reported at once, ``should_stop`` waits for epoch ``stop_min_epochs``."""
    rng = np.random.default_rng(0)
    mon = Monitor(
        reference=None,
        store=tmp_path,
        name="grace",
        stop_on=["convergence_failure"],
        stop_min_epochs=3,
    )
    stops = []
    for _ in range(3):
        verdict = _epoch(mon, OFF_MODES, rng)
        stops.append((verdict.epoch, verdict.kind, mon.should_stop))
    mon.close()
    assert stops == [
        (1, "convergence_failure", False),
        (2, "convergence_failure", False),
        (3, "convergence_failure", True),
    ]
    with RunStore(tmp_path) as store:
        assert store.get_run("grace").status == "stopped"
    with pytest.raises(ValueError, match="--stop-min-epochs"):
        Monitor(store=tmp_path, stop_on=["mode_collapse"], stop_min_epochs=0)
