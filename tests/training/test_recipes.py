"""What --loss, --model and --stabilize change in a run: models, optimisers, recorded numbers,
checkpoints, and the per-epoch pictures."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from ganwatch.config import build_config
from ganwatch.data import load_dataset
from ganwatch.store import RunStore
from ganwatch.training import resume, train
from ganwatch.training.checkpoint import checkpoint_path
from ganwatch.training.preview import preview_samples
from ganwatch.training.state import new_state
from ganwatch.training.step import train_step

RING = {"dataset": "ring", "latent_dim": 2, "device": "cpu", "batch_size": 64, "seed": 1}


def state_for(**overrides):
    config = build_config({**RING, **overrides})
    return new_state(config, (2,), torch.device("cpu"), "ring", total_steps=10)


def one_step(state, labels=None):
    real = load_dataset("ring", size=64, seed=2)
    record = train_step(
        state, state.recipe, real.data, real.labels if labels else None, contextlib.nullcontext()
    )
    assert set(record) == set(state.recipe.record_keys)
    return {key: float(value) for key, value in record.items()}


def test_wgan_takes_five_critic_steps_and_clips_the_critic():
    state = state_for(loss="wgan")
    assert state.recipe.d_steps == 5
    one_step(state)
    assert all(p.abs().max() <= 0.01 + 1e-9 for p in state.discriminator.parameters())
    assert state_for(loss="wgan", d_steps=2).recipe.d_steps == 2  # --d-steps wins


def test_gradient_penalties_are_recorded_for_wgan_gp_and_dragan():
    for loss in ("wgan-gp", "dragan"):
        values = one_step(state_for(loss=loss))
        assert values["loss/penalty"] > 0, loss
    assert "loss/penalty" not in one_step(state_for(loss="bce"))  # bce has no penalty


def test_label_smoothing_changes_the_real_loss_by_the_smoothed_target():
    plain, smooth = state_for(), state_for(stabilize="label-smoothing:0.8")
    assert smooth.recipe.real_target == 0.8 and plain.recipe.real_target == 1.0
    a, b = one_step(plain), one_step(smooth)
    assert a["loss/d_fake"] == pytest.approx(b["loss/d_fake"], rel=1e-6)  # same weights, noise
    # BCE towards 0.8 instead of 1 at the same D(x) = p: adds -0.2 * log((1 - p) / p)
    p = a["d/real"]
    assert b["loss/d_real"] - a["loss/d_real"] == pytest.approx(
        -0.2 * np.log((1 - p) / p), rel=0.02, abs=1e-3
    )


def test_ttur_splits_the_learning_rate_around_lr():
    state = state_for(stabilize="ttur", lr=2e-4)
    assert state.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert state.opt_d.param_groups[0]["lr"] == pytest.approx(4e-4)


def test_spectral_norm_minibatch_discrimination_and_pacgan_rebuild_the_discriminator():
    sn = state_for(stabilize="spectral-norm").discriminator
    assert any(hasattr(m, "parametrizations") for m in sn.modules())
    mbd = state_for(stabilize="minibatch-discrimination:16").discriminator
    assert mbd.classifier[1].in_features == mbd.classifier[0].projection.shape[0] + 16
    packed = state_for(stabilize="pacgan:4")
    first = next(m for m in packed.discriminator.modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 8  # four 2-D points side by side
    assert packed.recipe.pack == 4


def test_began_records_k_and_its_convergence_measure_and_k_moves():
    state = state_for(loss="began")
    values = [one_step(state) for _ in range(3)]
    assert values[-1]["began/k"] > 0  # gamma * L(x) > L(G(z)) early on pushes k up from 0
    assert all(v["began/convergence"] > 0 for v in values)
    assert state.recipe.extra_keys() == ("began/k", "began/convergence")


def test_acgan_and_infogan_record_their_auxiliary_loss():
    for model in ("acgan", "infogan"):
        values = one_step(state_for(model=model), labels=True)
        assert values["loss/aux"] > 0, model


def test_conditional_mnist_preview_has_one_row_per_class():
    config = build_config({"dataset": "mnist", "model": "cgan", "device": "cpu"})
    state = new_state(config, (1, 28, 28), torch.device("cpu"), "mnist")
    with torch.no_grad():
        grid = preview_samples(state, "image")
    assert grid.shape == (80, 1, 28, 28)
    rows = grid.view(10, 8, -1)
    # the same 8 noise vectors in every row: rows differ only through the label
    assert not torch.allclose(rows[0], rows[1])
    infogan = build_config({"dataset": "mnist", "model": "infogan", "device": "cpu"})
    state = new_state(infogan, (1, 28, 28), torch.device("cpu"), "mnist")
    with torch.no_grad():
        columns = preview_samples(state, "image").view(10, 8, -1)
    assert not torch.allclose(columns[0, 0], columns[0, -1])  # the continuous code sweeps


def test_a_stabilised_run_resumes_exactly(tmp_path):
    """EMA, historical averaging and BEGAN's k are checkpointed: a resumed run equals an
    uninterrupted one."""
    values = {
        **RING,
        "train_size": 512,
        "epochs": 3,
        "checkpoint_every": 1,
        "loss": "began",
        "stabilize": "ema,historical-averaging",
    }
    with RunStore(tmp_path / "whole") as store:
        whole = train(build_config(values), store, quiet=True)
        whole_k = [e["began/k"] for e in store.epoch_metrics(whole.run_id)]
    with RunStore(tmp_path / "split") as store:
        first = train(build_config({**values, "epochs": 2}), store, quiet=True)
        resume(store, first.run_id, epochs=3, quiet=True)
        split_k = [e["began/k"] for e in store.epoch_metrics(first.run_id)]
        ckpt = torch.load(checkpoint_path(store.run_dir(first.run_id)), weights_only=False)
    assert split_k == whole_k
    assert ckpt["stabilizers"]["ema"] is not None
    assert ckpt["stabilizers"]["historical-averaging"]["average_g"]["count"] > 1


def test_energy_and_critic_runs_record_scores_not_probabilities(tmp_path):
    with RunStore(tmp_path) as store:
        run = train(
            build_config({**RING, "train_size": 256, "epochs": 1, "loss": "wgan-gp"}),
            store,
            quiet=True,
        )
        steps = store.step_metrics(run.run_id)
        (epoch,) = store.epoch_metrics(run.run_id)
    assert "d/real" not in steps and "loss/g" in steps
    assert "score/real" in epoch and "loss/penalty" in epoch


def test_minibatch_discrimination_never_mixes_real_and_fake_samples_in_one_call():
    state = state_for(stabilize="minibatch-discrimination:8", model="cgan")
    assert state.recipe.separate_batches
    batches = []
    layer = state.discriminator.classifier[0]
    layer.register_forward_hook(lambda module, args, out: batches.append(args[0].shape[0]))
    one_step(state, labels=True)
    # the D step judges the 64 real and the 64 fake samples apart, then the G step its 64
    assert batches == [64, 64, 64]
