"""What a run trains with, decided once from its config: the loss's objective, the model pair,
the stabilisers, and the few numbers the step needs.

This is where ``--loss``, ``--model`` and ``--stabilize`` become objects. After it, the
training step only asks them questions (:mod:`ganwatch.training.step`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ganwatch.catalog import DATASETS, EXTRA_STEP_KEYS, STEP_KEYS, load, model_spec
from ganwatch.catalog.losses import discriminator_steps
from ganwatch.config import TrainConfig, check_combination
from ganwatch.losses.objective import Objective, build_objective
from ganwatch.models.pairs import PlainPair
from ganwatch.stabilizers import Stabilizer, build_stabilizers

#: Classes assumed for a dataset the catalog does not know (a user's own data).
DEFAULT_CLASSES = 10


@dataclass
class Recipe:
    """The choices that fix what a step computes, and the stateful parts that go with them
    (BEGAN's k in the objective, EMA and parameter averages in the stabilisers)."""

    objective: Objective
    pair: PlainPair
    stabilizers: tuple[Stabilizer, ...]
    d_steps: int = 1
    g_steps: int = 1
    total_steps: int = 1  # generator steps in the whole run (instance noise anneals over them)

    @property
    def record_keys(self) -> tuple[str, ...]:
        """What each step records, in this order: the step keys, then the extras produced."""
        produced = set(self.objective.record_keys) | set(self.pair.record_keys)
        extras = tuple(spec.key for spec in EXTRA_STEP_KEYS if spec.key in produced)
        return tuple(spec.key for spec in STEP_KEYS) + extras

    def extra_keys(self) -> tuple[str, ...]:
        """The record keys beyond the step keys (penalty, auxiliary loss, BEGAN's numbers)."""
        return self.record_keys[len(STEP_KEYS) :]

    @property
    def pack(self) -> int:
        """Samples the discriminator judges at once (PacGAN), so how much wider it is built."""
        return math.prod(s.pack for s in self.stabilizers)

    @property
    def separate_batches(self) -> bool:
        """Whether real and fake batches must go through D in separate calls."""
        return any(s.separate_batches for s in self.stabilizers)

    @property
    def real_target(self) -> float:
        """The label D is trained towards on real data (below 1 with label smoothing)."""
        target = 1.0
        for s in self.stabilizers:
            target = s.real_target(target)
        return target

    @property
    def generator_loss(self):
        """What computes G's loss: the objective, or a stabiliser in its place."""
        out = self.objective
        for s in self.stabilizers:
            out = s.wrap_generator_loss(out)
        return out

    def discriminator_input(self, x: torch.Tensor, step: int, rng: torch.Generator) -> torch.Tensor:
        """What D sees of a batch: each stabiliser's change, in the catalog's order."""
        for s in self.stabilizers:
            x = s.discriminator_input(x, step, rng)
        return x


def build_recipe(
    config: TrainConfig,
    dataset_name: str,
    total_steps: int = 1,
    device: torch.device | str = "cpu",
) -> Recipe:
    """The recipe of ``config``; a combination that cannot work is a ConfigError."""
    check_combination(config)
    spec = DATASETS.get(dataset_name)
    pair = load(model_spec(config.model).pair)(spec.classes if spec else DEFAULT_CLASSES)
    return Recipe(
        objective=build_objective(config.loss, device),
        pair=pair,
        stabilizers=build_stabilizers(config.stabilize, total_steps),
        d_steps=discriminator_steps(config.loss, config.d_steps),
        g_steps=config.g_steps,
        total_steps=max(1, total_steps),
    )
