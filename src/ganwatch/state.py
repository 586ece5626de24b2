"""What training changes, built from a config, and what a checkpoint saves of it.

Building is where ``--loss``, ``--model`` and ``--stabilize`` meet the models: the loss decides
whether the discriminator is a classifier or an autoencoder, PacGAN widens its input, spectral
normalisation and minibatch discrimination rewrite its layers, TTUR splits the learning rate,
and EMA and historical averaging keep copies of parameters. After this, the training step only
reads the :class:`~ganwatch.step.Recipe`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ganwatch.checkpoint import capture_rng, restore_rng
from ganwatch.config import ConfigError, TrainConfig
from ganwatch.data import Dataset
from ganwatch.images import image_grid, scatter_image
from ganwatch.losses.registry import discriminator_steps, loss_spec
from ganwatch.models import build_models
from ganwatch.stabilizers import settings
from ganwatch.stabilizers.ema import GeneratorAverage
from ganwatch.stabilizers.historical_averaging import ParameterAverage
from ganwatch.stabilizers.label_smoothing import real_target
from ganwatch.stabilizers.minibatch_discrimination import add_minibatch_discrimination
from ganwatch.stabilizers.spectral_norm import apply_spectral_norm
from ganwatch.stabilizers.ttur import learning_rates
from ganwatch.step import Recipe, StepExtras, generate

POINT_SAMPLES = 1024  # fixed noise for the per-epoch scatter of 2-D data (64 points show little)
GRID_COLUMNS = 8
MAX_GRID_CLASSES = 10  # a per-class grid of Stacked MNIST's 1000 classes would be unreadable

#: Classes (CGAN/ACGAN labels, InfoGAN categories) of each data set's labels.
CLASS_COUNTS = {
    "mnist": 10,
    "fashion-mnist": 10,
    "kmnist": 10,
    "stacked-mnist": 1000,
    "ring": 8,
    "grid": 25,
}


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
    extras: StepExtras
    epoch: int = 0  # completed epochs
    step: int = 0  # completed generator steps (the global iteration)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator to draw pictures and metrics from: the EMA copy when there is one."""
        return self.extras.ema.model if self.extras.ema is not None else self.generator


def build_recipe(config: TrainConfig, dataset_name: str, total_steps: int = 1) -> Recipe:
    """The step's choices for ``config``; a combination that cannot work is a ConfigError."""
    spec = loss_spec(config.loss)
    chosen = settings(config.stabilize)
    conditional = config.model if config.model in ("cgan", "acgan", "infogan") else None
    if conditional and (spec.output == "energy" or "pacgan" in chosen):
        what = f"--loss {config.loss}" if spec.output == "energy" else "--stabilize pacgan"
        raise ConfigError(f"--model {config.model}: cannot be combined with {what}")
    if "feature-matching" in chosen and spec.output == "energy" and config.loss == "began":
        raise ConfigError("--stabilize feature-matching: BEGAN's generator loss is its energy")
    return Recipe(
        loss=spec,
        d_steps=discriminator_steps(config.loss, config.d_steps),
        conditional=conditional,
        num_classes=CLASS_COUNTS.get(dataset_name, 10),
        real_target=real_target(config.loss, chosen.get("label-smoothing")),
        pack=int(chosen.get("pacgan", 1)),
        feature_matching="feature-matching" in chosen,
        instance_noise=chosen.get("instance-noise", 0.0),
        unrolled=int(chosen.get("unrolled", 0)),
        separate_batches="minibatch-discrimination" in chosen,
        total_steps=max(1, total_steps),
    )


def new_state(
    config: TrainConfig,
    sample_shape: tuple[int, ...],
    device: torch.device,
    dataset_name: str | None = None,
    total_steps: int = 1,
) -> TrainingState:
    """Models initialised from the seed, optimisers, the device RNG and the fixed grid noise."""
    dataset_name = dataset_name or config.dataset
    recipe = build_recipe(config, dataset_name, total_steps)
    chosen = settings(config.stabilize)
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(
        config.model,
        config.latent_dim,
        sample_shape,
        num_classes=recipe.num_classes,
        pack=recipe.pack,
        energy=recipe.loss.energy_norm,
    )
    if "minibatch-discrimination" in chosen:
        add_minibatch_discrimination(discriminator, int(chosen["minibatch-discrimination"]))
    if "spectral-norm" in chosen:
        apply_spectral_norm(discriminator)
    generator.to(device)
    discriminator.to(device)
    fused = {"fused": True} if device.type == "cuda" else {}
    betas = (config.beta1, config.beta2)
    lr_g, lr_d = learning_rates(config.lr, chosen.get("ttur"))
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas, **fused)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas, **fused)
    extras = StepExtras(began_k=torch.zeros((), device=device))
    if "ema" in chosen:
        extras.ema = GeneratorAverage(generator, chosen["ema"])
    if "historical-averaging" in chosen:
        extras.average_g = ParameterAverage(generator)
        extras.average_d = ParameterAverage(discriminator)
        extras.history_weight = chosen["historical-averaging"]
    rng = torch.Generator(device=device)
    rng.manual_seed(config.seed + 1)
    count = config.sample_size if len(sample_shape) == 3 else max(config.sample_size, POINT_SAMPLES)
    fixed = torch.randn(
        count, config.latent_dim, generator=torch.Generator().manual_seed(config.seed)
    )
    return TrainingState(
        generator, discriminator, opt_g, opt_d, rng, fixed.to(device), recipe, extras
    )


def state_dict(state: TrainingState, config: TrainConfig) -> dict:
    return {
        "generator": state.generator.state_dict(),
        "discriminator": state.discriminator.state_dict(),
        "opt_g": state.opt_g.state_dict(),
        "opt_d": state.opt_d.state_dict(),
        "rng": capture_rng(state.rng),
        "fixed_noise": state.fixed_noise,
        "extras": state.extras.state_dict(),
        "epoch": state.epoch,
        "step": state.step,
        "config": config.to_dict(),
    }


def load_state(state: TrainingState, saved: dict) -> None:
    state.generator.load_state_dict(saved["generator"])
    state.discriminator.load_state_dict(saved["discriminator"])
    state.opt_g.load_state_dict(saved["opt_g"])
    state.opt_d.load_state_dict(saved["opt_d"])
    restore_rng(saved["rng"], state.rng)
    state.fixed_noise = saved["fixed_noise"]
    if "extras" in saved:  # checkpoints from before stabilisers existed have none
        state.extras.load_state_dict(saved["extras"])
    state.epoch = saved["epoch"]
    state.step = saved["step"]


class ConditionSampler(nn.Module):
    """A conditional generator seen as an unconditional one: ``forward(z)`` picks conditions.

    The Monitor draws evaluation samples with ``generator(z)``. For a conditional model the
    labels cycle through every class (so class coverage measures the generator, not the luck
    of the draw) and InfoGAN's continuous codes are uniform from a fixed seed.
    """

    def __init__(self, generator: nn.Module, recipe: Recipe) -> None:
        super().__init__()
        self.generator, self.recipe = generator, recipe
        self.latent_dim = generator.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        labels = torch.arange(z.shape[0], device=z.device) % self.recipe.num_classes
        if self.recipe.conditional != "infogan":
            return self.generator(z, labels)
        rng = torch.Generator(device=z.device).manual_seed(0)
        n_cont = self.generator.num_continuous
        cont = torch.rand(z.shape[0], n_cont, device=z.device, generator=rng) * 2 - 1
        return self.generator(z, (labels, cont))


def evaluation_generator(state: TrainingState) -> nn.Module:
    """What the Monitor measures: the (EMA) generator, sampled over all classes if conditional."""
    generator = state.sampling_generator
    if state.recipe.conditional is None:
        return generator
    return ConditionSampler(generator, state.recipe)


def preview_samples(state: TrainingState, kind: str) -> torch.Tensor:
    """The per-epoch samples: fixed noise, and for conditional image models one row per class.

    InfoGAN's rows are its categorical code and its columns sweep the first continuous code
    from -1 to 1 with the noise held fixed, which shows what each code has learned to control.
    """
    recipe, generator, z = state.recipe, state.sampling_generator, state.fixed_noise
    if recipe.conditional is None:
        return generator(z)
    device = z.device
    if kind != "image":  # a scatter of points: cycle the classes
        labels = torch.arange(len(z), device=device) % recipe.num_classes
        if recipe.conditional == "infogan":
            cont = torch.zeros(len(z), generator.num_continuous, device=device)
            return generator(z, (labels, cont))
        return generator(z, labels)
    rows = min(recipe.num_classes, MAX_GRID_CLASSES)
    labels = torch.arange(rows, device=device).repeat_interleave(GRID_COLUMNS)
    if recipe.conditional == "infogan":
        cont = torch.zeros(len(labels), generator.num_continuous, device=device)
        if generator.num_continuous:
            cont[:, 0] = torch.linspace(-1, 1, GRID_COLUMNS, device=device).repeat(rows)
        noise = z[:1].expand(len(labels), -1)
        return generate(generator, noise, (labels, cont))
    noise = z[:GRID_COLUMNS].repeat(rows, 1)
    return generate(generator, noise, labels)


def epoch_preview(state: TrainingState, dataset: Dataset) -> np.ndarray:
    """The per-epoch picture: the 8x8 grid of fixed-noise images (per class rows for
    conditional models), or a scatter for 2-D data."""
    with torch.no_grad():
        samples = preview_samples(state, dataset.kind).float().cpu()
    if dataset.kind == "image":
        return image_grid(samples, nrow=GRID_COLUMNS)
    from ganwatch.data.toy import mode_centres

    return scatter_image(samples.numpy(), reference_points=mode_centres(dataset.name))
