"""What the Monitor measures and what each epoch's picture shows, drawn from the training state.

The per-epoch picture is the 8x8 grid of fixed-noise images (for conditional image models,
one row per class), or a scatter of the fixed-noise points for 2-D data. Evaluation samples of
a conditional model cycle through every class, so class coverage measures the generator and
not the luck of the draw.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganwatch.data import Dataset
from ganwatch.images import image_grid, scatter_image
from ganwatch.models.pairs import GRID_COLUMNS, PlainPair
from ganwatch.training.state import TrainingState


class ConditionSampler(nn.Module):
    """A conditional generator seen as an unconditional one: ``forward(z)`` picks conditions."""

    def __init__(self, generator: nn.Module, pair: PlainPair) -> None:
        super().__init__()
        self.generator, self.pair = generator, pair
        self.latent_dim = generator.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.pair.evaluate(self.generator, z)


def evaluation_generator(state: TrainingState) -> nn.Module:
    """What the Monitor measures: the (EMA) generator, sampled over all classes if conditional."""
    generator = state.sampling_generator
    if not state.recipe.pair.conditional:
        return generator
    return ConditionSampler(generator, state.recipe.pair)


def preview_samples(state: TrainingState, kind: str) -> torch.Tensor:
    """The per-epoch samples from the fixed noise (``kind``: the dataset's, image or points)."""
    return state.recipe.pair.preview(state.sampling_generator, state.fixed_noise, kind == "image")


def epoch_preview(state: TrainingState, dataset: Dataset) -> np.ndarray:
    """The per-epoch picture as an image array."""
    with torch.no_grad():
        samples = preview_samples(state, dataset.kind).float().cpu()
    if dataset.kind == "image":
        return image_grid(samples, nrow=GRID_COLUMNS)
    from ganwatch.data.toy import mode_centres

    return scatter_image(samples.numpy(), reference_points=mode_centres(dataset.name))
