"""What training changes, built from a config, and what a checkpoint saves of it.

Building is where the recipe meets the models: the loss decides whether the discriminator is a
classifier or an autoencoder, PacGAN widens its input, spectral normalisation and minibatch
discrimination rewrite its layers, TTUR splits the learning rate, and EMA and historical
averaging keep copies of parameters. Everything that must match between a run and its resume
is built here, in one order, from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganwatch.config import TrainConfig
from ganwatch.models import build_models
from ganwatch.training.checkpoint import capture_rng, restore_rng
from ganwatch.training.distributed import Shards, average_gradients_before_step, current_shards
from ganwatch.training.recipe import Recipe, build_recipe

#: Fixed noise for the per-epoch scatter of 2-D data (64 points show little).
POINT_SAMPLES = 1024


@dataclass
class TrainingState:
    """Everything that changes while training; what a checkpoint saves."""

    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: torch.Generator  # the device generator for shuffling and noise
    fixed_noise: torch.Tensor
    recipe: Recipe
    latent_dim: int
    epoch: int = 0  # completed epochs
    step: int = 0  # completed generator steps (the global iteration)
    shards: Shards = field(default_factory=Shards)  # this rank's part of each batch

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator to draw pictures and metrics from: the EMA copy when there is one."""
        generator = self.generator
        for stabilizer in self.recipe.stabilizers:
            generator = stabilizer.sampling_generator(generator)
        return generator


def new_state(
    config: TrainConfig,
    sample_shape: tuple[int, ...],
    device: torch.device,
    dataset_name: str | None = None,
    total_steps: int = 1,
) -> TrainingState:
    """Models initialised from the seed, optimisers, the device RNG and the fixed grid noise."""
    recipe = build_recipe(config, dataset_name or config.dataset, total_steps, device)
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(
        config.model,
        config.latent_dim,
        sample_shape,
        num_classes=recipe.pair.num_classes,
        pack=recipe.pack,
        energy=recipe.objective.spec.energy_norm,
    )
    for stabilizer in recipe.stabilizers:
        stabilizer.adapt_discriminator(discriminator)
    generator.to(device)
    discriminator.to(device)
    # Fused Adam: one kernel per parameter list instead of several per tensor; on the CPU it
    # makes the update about five times faster (the MLP pair's step from ~30 to ~6 ms).
    fused = {"fused": True}
    betas = (config.beta1, config.beta2)
    lr_g = lr_d = config.lr
    for stabilizer in recipe.stabilizers:
        lr_g, lr_d = stabilizer.learning_rates(lr_g, lr_d)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas, **fused)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas, **fused)
    for stabilizer in recipe.stabilizers:
        stabilizer.attach(generator, discriminator)
    shards = current_shards()
    for optimizer in (opt_g, opt_d):
        average_gradients_before_step(optimizer, shards)
    rng = torch.Generator(device=device)
    rng.manual_seed(config.seed + 1)  # the same on every rank: see training.distributed
    count = config.sample_size if len(sample_shape) == 3 else max(config.sample_size, POINT_SAMPLES)
    fixed = torch.randn(
        count, config.latent_dim, generator=torch.Generator().manual_seed(config.seed)
    )
    return TrainingState(
        generator,
        discriminator,
        opt_g,
        opt_d,
        rng,
        fixed.to(device),
        recipe,
        config.latent_dim,
        shards=shards,
    )


def state_dict(state: TrainingState, config: TrainConfig) -> dict[str, Any]:
    return {
        "generator": state.generator.state_dict(),
        "discriminator": state.discriminator.state_dict(),
        "opt_g": state.opt_g.state_dict(),
        "opt_d": state.opt_d.state_dict(),
        "rng": capture_rng(state.rng),
        "fixed_noise": state.fixed_noise,
        "objective": state.recipe.objective.state_dict(),
        "stabilizers": {s.name: s.state_dict() for s in state.recipe.stabilizers},
        "epoch": state.epoch,
        "step": state.step,
        "config": config.to_dict(),
    }


def _legacy_stabilizer_state(extras: dict[str, Any]) -> dict[str, Any]:
    """Checkpoints written before the stabiliser protocol kept EMA and the parameter averages
    together under "extras"; this is that state under the stabilisers' own names."""
    return {
        "ema": extras.get("ema"),
        "historical-averaging": extras if extras.get("average_g") is not None else None,
    }


def load_state(state: TrainingState, saved: dict[str, Any]) -> None:
    state.generator.load_state_dict(saved["generator"])
    state.discriminator.load_state_dict(saved["discriminator"])
    state.opt_g.load_state_dict(saved["opt_g"])
    state.opt_d.load_state_dict(saved["opt_d"])
    restore_rng(saved["rng"], state.rng)
    state.fixed_noise = saved["fixed_noise"]
    legacy = saved.get("extras") or {}
    state.recipe.objective.load_state_dict(saved.get("objective", legacy))
    stabilizers = saved.get("stabilizers") or _legacy_stabilizer_state(legacy)
    for stabilizer in state.recipe.stabilizers:
        if stabilizers.get(stabilizer.name) is not None:
            stabilizer.load_state_dict(stabilizers[stabilizer.name])
    state.epoch = saved["epoch"]
    state.step = saved["step"]
