"""The trainer on the 2-D ring: what it records, resume equality, crash and divergence handling."""

import numpy as np
import pytest
import torch
from PIL import Image

import ganwatch.training.loop as train_module
from ganwatch.catalog.keys import step_key_names
from ganwatch.config import build_config
from ganwatch.store import RunStore
from ganwatch.training import resume, train
from ganwatch.training.checkpoint import checkpoint_path

STEP_KEYS = step_key_names()


def ring_config(**overrides):
    values = {
        "dataset": "ring",
        "latent_dim": 2,
        "train_size": 1024,
        "batch_size": 128,
        "epochs": 4,
        "checkpoint_every": 1,
        "device": "cpu",
        "seed": 3,
    }
    values.update(overrides)
    return build_config(values)


def test_ring_run_records_steps_epochs_and_grids(tmp_path):
    config = ring_config(train_size=4096, epochs=8)  # 32 steps an epoch, 256 in all
    with RunStore(tmp_path) as store:
        result = train(config, store, name="ring-smoke", quiet=True)
        assert result.status == "finished" and result.step == 256 and result.epochs_done == 8
        run = store.get_run("ring-smoke")
        assert run.status == "finished" and run.config["dataset"] == "ring"
        steps = store.step_metrics(run.id)
        assert set(STEP_KEYS) <= set(steps)
        for key in STEP_KEYS:
            step_ids, values = steps[key]
            assert list(step_ids) == list(range(1, 257))
            assert np.isfinite(values).all()
        # D's outputs are probabilities, losses positive, gradient norms positive
        assert ((steps["d/real"][1] > 0) & (steps["d/real"][1] < 1)).all()
        assert (steps["loss/d_fake"][1] > 0).all() and (steps["grad/g"][1] > 0).all()
        epochs = store.epoch_metrics(run.id)
        assert [e["epoch"] for e in epochs] == list(range(1, 9))
        assert [e["step"] for e in epochs] == list(range(32, 257, 32))
        first = epochs[0]
        assert first["loss/g"] == pytest.approx(float(steps["loss/g"][1][:32].mean()), rel=1e-6)
        assert first["time/epoch_s"] > 0 and first["speed/images_per_s"] > 0
        grids = store.images(run.id, "grid")
        assert [epoch for epoch, _, _ in grids] == list(range(1, 9))
        with Image.open(grids[-1][2]) as image:
            assert image.size[0] > 32 and image.size[1] > 32
        assert checkpoint_path(result.run_dir).exists()
        kinds = [e["kind"] for e in store.events(run.id)]
        assert kinds[0] == "started" and kinds[-1] == "finished"


def test_image_run_writes_8x8_grid(tmp_path, mnist_dir):
    config = build_config(
        {
            "dataset": "mnist",
            "data_dir": str(mnist_dir),
            "train_size": 128,
            "batch_size": 64,
            "epochs": 1,
            "device": "cpu",
            "latent_dim": 8,
            "metrics": False,
        }
    )
    with RunStore(tmp_path) as store:
        result = train(config, store, quiet=True)
        ((_, _, path),) = store.images(result.run_id, "grid")
        with Image.open(path) as image:
            assert image.size == (242, 242)  # 8 x 28 pixels + 9 x 2 padding


def _final_generator(run_dir):
    return torch.load(checkpoint_path(run_dir), weights_only=False)["generator"]


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    config = ring_config()
    with RunStore(tmp_path / "a") as store:
        whole = train(config, store, quiet=True)
        whole_steps = store.step_metrics(whole.run_id)
        whole_gen = _final_generator(whole.run_dir)

    real_step = train_module.train_step
    calls = {"n": 0}

    def crashing_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 21:  # mid third epoch (8 steps an epoch)
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    with RunStore(tmp_path / "b") as store:
        monkeypatch.setattr(train_module, "train_step", crashing_step)
        with pytest.raises(KeyboardInterrupt):
            train(config, store, quiet=True)
        run = store.list_runs()[0]
        assert run.status == "interrupted"
        # nothing lost: the 20 steps taken before the crash are in the store
        assert list(store.step_metrics(run.id)["loss/g"][0]) == list(range(1, 21))
        monkeypatch.setattr(train_module, "train_step", real_step)
        resumed = resume(store, run.id, quiet=True)
        assert resumed.status == "finished" and resumed.step == whole.step
        resumed_steps = store.step_metrics(run.id)
        resumed_gen = _final_generator(resumed.run_dir)
    for key in STEP_KEYS:
        np.testing.assert_array_equal(resumed_steps[key][0], whole_steps[key][0])
        np.testing.assert_array_equal(resumed_steps[key][1], whole_steps[key][1])
    for name, tensor in whole_gen.items():
        assert torch.equal(tensor, resumed_gen[name]), name


def test_resume_can_extend_a_finished_run(tmp_path):
    with RunStore(tmp_path) as store:
        first = train(ring_config(epochs=2), store, quiet=True)
        longer = resume(store, first.run_id, epochs=3, quiet=True)
        assert longer.epochs_done == 3 and longer.step == 24
        assert store.get_run(first.run_id).config["epochs"] == 3


def test_non_finite_loss_marks_the_run_diverged_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch
):
    from ganwatch.losses import objective

    real_loss = objective.bce_generator_loss
    calls = {"n": 0}

    def poisoned(fake_logits):
        calls["n"] += 1
        loss = real_loss(fake_logits)
        return loss * float("nan") if calls["n"] >= 12 else loss  # in the second epoch

    monkeypatch.setattr(objective, "bce_generator_loss", poisoned)
    with RunStore(tmp_path) as store:
        result = train(ring_config(), store, quiet=True)
        assert result.status == "diverged" and result.epochs_done == 2
        run = store.get_run(result.run_id)
        assert run.status == "diverged"
        (event,) = store.events(run.id, "diverged")
        assert event["payload"]["first_bad_step"] == 12
        saved = torch.load(checkpoint_path(result.run_dir), weights_only=False)
        assert saved["epoch"] == 1
        assert all(torch.isfinite(t).all() for t in saved["generator"].values())


def test_train_step_equals_the_articles_update_rule():
    """Three steps of ours against the article's code path (sigmoid + BCELoss, separate
    real/fake backward passes, D left trainable during the G step) from the same weights and
    noise give the same weights."""
    import contextlib
    import copy

    from ganwatch.training.state import new_state
    from ganwatch.training.step import train_step

    config = build_config({"preset": "stable", "device": "cpu", "d_steps": 2})
    state = new_state(config, (1, 28, 28), torch.device("cpu"))
    assert state.recipe.d_steps == 2 and state.recipe.objective.spec.name == "bce"
    G, D = copy.deepcopy(state.generator), copy.deepcopy(state.discriminator)
    initial = G.fcn[0].weight.detach().clone()
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
    noise_rng = torch.Generator().manual_seed(config.seed + 1)  # state.rng's seed
    bce = torch.nn.BCELoss()
    reals = [torch.rand(16, 1, 28, 28) * 2 - 1 for _ in range(3)]
    for real in reals:
        train_step(state, state.recipe, real, None, contextlib.nullcontext())
        n = real.shape[0]
        for _ in range(config.d_steps):
            fake = G(torch.randn(n, 128, generator=noise_rng)).detach()
            opt_d.zero_grad()
            loss_real = bce(torch.sigmoid(D(real)), torch.ones(n, 1))
            loss_fake = bce(torch.sigmoid(D(fake)), torch.zeros(n, 1))
            loss_real.backward()
            loss_fake.backward()
            opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(
            torch.sigmoid(D(G(torch.randn(n, 128, generator=noise_rng)))), torch.ones(n, 1)
        )
        loss_g.backward()
        opt_g.step()
    for ours, ref in ((state.generator, G), (state.discriminator, D)):
        for (name, a), b in zip(ours.named_parameters(), ref.parameters(), strict=True):
            # 5e-5: float32 sums round differently across CPUs (1.5e-5 seen on 2026-12-01's
            # machine); a wrong update rule moves a weight by about lr (2e-4) a step
            assert (a - b).abs().max().item() < 5e-5, name
    moved = (state.generator.fcn[0].weight - initial).abs().max().item()
    assert moved > 3e-4  # three steps really happened


@pytest.mark.parametrize(("grace", "confidence"), [(1, 0.0), (10, 0.5)])
def test_a_stop_under_a_weak_rule_says_early_failures_often_pass(
    tmp_path, monkeypatch, capsys, grace, confidence
):
    """Replayed on the verdict corpus, --stop-on with the defaults stopped every run that
    went on to end healthy and (10, 0.5) none: a stop under a weaker rule says so."""
    import ganwatch.monitor.monitor as monitor_module
    from ganwatch.diagnose import Verdict

    def collapse(history, *args, **kwargs):  # a collapse at every epoch
        epoch, step = int(history.epochs[-1]), int(history.steps[-1])
        return Verdict("mode_collapse", epoch, step, step, 0.95)

    monkeypatch.setattr(monitor_module, "diagnose", collapse)
    config = ring_config(
        epochs=11,
        metrics=False,
        stop_on="mode_collapse",
        stop_min_epochs=grace,
        stop_confidence=confidence,
    )
    with RunStore(tmp_path) as store:
        assert train(config, store, quiet=True).status == "stopped"
    line = next(x for x in capsys.readouterr().out.splitlines() if "stopping on" in x)
    assert line.startswith(f"run 1: stopping on mode_collapse at epoch {grace} (--stop-on)")
    assert ("--stop-min-epochs 10 --stop-confidence 0.5" in line) == (grace == 1)


def test_the_stop_line_of_a_divergence_or_a_sweep_has_no_hint() -> None:
    from ganwatch.diagnose.stopping import StopRule
    from ganwatch.training.progress import stop_line

    weak = StopRule(verdicts=("divergence", "mode_collapse"))
    assert (
        stop_line(3, "divergence", 2, weak)
        == "run 3: stopping on divergence at epoch 2 (--stop-on)"
    )
    assert "--stop-min-epochs" in stop_line(3, "mode_collapse", 2, weak)
    swept = stop_line(3, "mode_collapse", 2)  # a sweep's own rule: its file names the values
    assert swept == "run 3: stopping on mode_collapse at epoch 2 (the sweep's stop rule)"
