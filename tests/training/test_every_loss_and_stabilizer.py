"""The ring smoke test: every loss, alone and with each stabiliser, trains for a few hundred
CPU steps with finite numbers; combinations that cannot work are refused with a clear error."""

from __future__ import annotations

import contextlib

import pytest
import torch

from ganwatch.catalog import LOSSES, STABILIZERS
from ganwatch.config import ConfigError, build_config
from ganwatch.data import load_dataset
from ganwatch.training.state import new_state
from ganwatch.training.step import train_step

STEPS = 200
BATCH = 64

# Pairs that have no meaning, and the words their error must contain.
REFUSED = {
    ("wgan", "label-smoothing"): "no real label",
    ("wgan-gp", "label-smoothing"): "no real label",
    ("hinge", "label-smoothing"): "no real label",
    ("ebgan", "label-smoothing"): "no real label",
    ("began", "label-smoothing"): "no real label",
    ("ebgan", "minibatch-discrimination"): "classifier",
    ("began", "minibatch-discrimination"): "classifier",
    ("began", "feature-matching"): "BEGAN",
}


@pytest.fixture(scope="module")
def ring():
    return load_dataset("ring", size=BATCH * 8, seed=0)


def run_steps(ring, steps: int = STEPS, **overrides) -> dict[str, torch.Tensor]:
    """``steps`` training steps on the ring; returns each recorded key's ``steps`` values."""
    values = {"dataset": "ring", "latent_dim": 2, "batch_size": BATCH, "device": "cpu"}
    config = build_config({**values, **overrides})
    state = new_state(config, ring.shape, torch.device("cpu"), "ring", total_steps=steps)
    rows = []
    labels = ring.labels if state.recipe.pair.conditional else None
    for step in range(steps):
        lo = (step * BATCH) % len(ring)
        real = ring.data[lo : lo + BATCH]
        batch_labels = labels[lo : lo + BATCH] if labels is not None else None
        rows.append(
            train_step(state, state.recipe, real, batch_labels, contextlib.nullcontext(), step)
        )
    return {key: torch.stack([row[key] for row in rows]) for key in state.recipe.record_keys}


@pytest.mark.parametrize("stabilizer", ("none", *STABILIZERS))
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_with_every_stabilizer_stays_finite(ring, one_torch_thread, loss, stabilizer):
    stabilize = "" if stabilizer == "none" else stabilizer
    refused = REFUSED.get((loss, stabilizer))
    if refused:
        with pytest.raises((ConfigError, ValueError), match=refused):
            run_steps(ring, 1, loss=loss, stabilize=stabilize)
        return
    # unrolled and the 5-critic-step losses cost several D steps each; fewer steps suffice
    steps = STEPS // 2 if stabilizer == "unrolled" or LOSSES[loss].d_steps > 1 else STEPS
    rows = run_steps(ring, steps, loss=loss, stabilize=stabilize)
    for key, values in rows.items():
        assert torch.isfinite(values).all(), f"{loss} + {stabilizer}: non-finite {key}"
    loss_g = rows["loss/g"]
    assert loss_g.std() > 0, "the generator's loss never changed: nothing trained"


@pytest.mark.parametrize("loss", [name for name, spec in LOSSES.items() if spec.output != "energy"])
@pytest.mark.parametrize("model", ("cgan", "acgan", "infogan"))
def test_conditional_models_train_with_every_classifier_loss(ring, one_torch_thread, model, loss):
    rows = run_steps(ring, 60, model=model, loss=loss)
    assert all(torch.isfinite(values).all() for values in rows.values())
    if model != "cgan":  # ACGAN's class loss and InfoGAN's code loss are recorded
        assert (rows["loss/aux"] > 0).all()


@pytest.mark.parametrize("model", ("cgan", "acgan", "infogan"))
def test_conditional_models_refuse_energy_losses_and_packing(ring, model):
    with pytest.raises(ConfigError, match=f"--model {model}"):
        run_steps(ring, 1, model=model, loss="ebgan")
    with pytest.raises(ConfigError, match="pacgan"):
        run_steps(ring, 1, model=model, stabilize="pacgan")
