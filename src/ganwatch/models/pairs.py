"""How a training step talks to a model pair, whatever its kind: one small interface.

A plain pair is ``G(z)`` and ``D(x)``. Conditional pairs add labels or codes: CGAN's
discriminator sees the label, ACGAN's predicts it with an auxiliary head, InfoGAN's recovers
its codes with a Q head. Each kind answers the same questions: draw conditions, generate,
judge a batch (score and auxiliary output), give features, and score the auxiliary outputs.
The step asks these and never tests which kind it has.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganwatch.losses.auxiliary import class_loss, infogan_loss

Condition = Any  # None, labels (B,), or InfoGAN's (categories (B,), continuous codes (B, L))

#: Columns of the per-class preview grid, and at most this many class rows.
GRID_COLUMNS = 8
MAX_GRID_CLASSES = 10  # a per-class grid of Stacked MNIST's 1000 classes would be unreadable


class PlainPair:
    """``G(z)`` and ``D(x)``: the article's pair, the MLP pair, the autoencoder D."""

    conditional = False
    has_aux = False  # D has an auxiliary output with a loss (ACGAN, InfoGAN)
    record_keys: tuple[str, ...] = ()  # what the pair adds to each step's record

    def __init__(self, num_classes: int = 10) -> None:
        self.num_classes = num_classes

    def sample_conditions(
        self, generator: nn.Module, count: int, device: torch.device, rng: torch.Generator
    ) -> Condition:
        """Random labels or codes for ``count`` fakes (None for unconditional pairs)."""
        return None

    def generate(self, generator: nn.Module, noise: torch.Tensor, condition: Condition):
        return generator(noise)

    def labels_of(self, condition: Condition) -> torch.Tensor | None:
        """The class labels inside a condition, as D sees or predicts them."""
        return None

    def joint_labels(self, real_labels, fake_labels) -> torch.Tensor | None:
        """The labels D is called with on real and fakes joined into one batch."""
        return None

    def judge(self, discriminator: nn.Module, x: torch.Tensor, labels) -> tuple[torch.Tensor, Any]:
        """(D's score, its auxiliary output or None) for a batch, in one forward pass."""
        return discriminator(x), None

    def features(self, discriminator: nn.Module, x: torch.Tensor, labels) -> torch.Tensor:
        return discriminator.features(x)

    def discriminator_aux_loss(self, aux, n: int, real_labels, condition) -> torch.Tensor | None:
        """The auxiliary loss D adds on a joined batch of ``n`` real samples then fakes."""
        return None

    def generator_aux_loss(self, aux, condition) -> torch.Tensor | None:
        """The auxiliary loss G adds on its fakes."""
        return None

    def evaluate(self, generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
        """Samples for the metrics: conditional pairs cycle through every class."""
        return generator(z)

    def preview(self, generator: nn.Module, z: torch.Tensor, images: bool) -> torch.Tensor:
        """The per-epoch picture's samples from the fixed noise ``z``."""
        return generator(z)


class CGANPair(PlainPair):
    """Mirza & Osindero's CGAN: both players see the label."""

    conditional = True

    def sample_conditions(self, generator, count, device, rng):
        return torch.randint(self.num_classes, (count,), device=device, generator=rng)

    def generate(self, generator, noise, condition):
        return generator(noise, condition)

    def labels_of(self, condition):
        return condition

    def joint_labels(self, real_labels, fake_labels):
        return torch.cat([real_labels, fake_labels])

    def judge(self, discriminator, x, labels):
        return discriminator(x, labels), None

    def features(self, discriminator, x, labels):
        return discriminator.features(x, labels)

    def evaluate(self, generator, z):
        labels = torch.arange(z.shape[0], device=z.device) % self.num_classes
        return generator(z, labels)

    def preview(self, generator, z, images):
        if not images:  # a scatter of points: cycle the classes
            return self.evaluate(generator, z)
        rows = min(self.num_classes, MAX_GRID_CLASSES)
        labels = torch.arange(rows, device=z.device).repeat_interleave(GRID_COLUMNS)
        return generator(z[:GRID_COLUMNS].repeat(rows, 1), labels)


class ACGANPair(CGANPair):
    """Odena et al.'s ACGAN: D does not see the label, it predicts it with an auxiliary head."""

    has_aux = True
    record_keys = ("loss/aux",)

    def joint_labels(self, real_labels, fake_labels):
        return None

    def judge(self, discriminator, x, labels):
        return discriminator.classify(x)

    def features(self, discriminator, x, labels):
        return discriminator.features(x)

    def discriminator_aux_loss(self, aux, n, real_labels, condition):
        return class_loss(aux[:n], real_labels) + class_loss(aux[n:], condition)

    def generator_aux_loss(self, aux, condition):
        return class_loss(aux, condition)


class InfoGANPair(ACGANPair):
    """Chen et al.'s InfoGAN: a categorical and continuous codes, recovered by D's Q head."""

    def sample_conditions(self, generator, count, device, rng):
        labels = torch.randint(self.num_classes, (count,), device=device, generator=rng)
        cont = torch.rand(count, generator.num_continuous, device=device, generator=rng) * 2 - 1
        return labels, cont

    def labels_of(self, condition):
        return condition[0]

    def judge(self, discriminator, x, labels):
        adv, cat_logits, cont_mean = discriminator.infer(x)
        return adv, (cat_logits, cont_mean)

    def discriminator_aux_loss(self, aux, n, real_labels, condition):
        cat_logits, cont_mean = aux
        return infogan_loss(cat_logits[n:], condition[0], cont_mean[n:], condition[1])

    def generator_aux_loss(self, aux, condition):
        cat_logits, cont_mean = aux
        labels, cont = condition
        return infogan_loss(cat_logits, labels, cont_mean, cont)

    def evaluate(self, generator, z):
        labels = torch.arange(z.shape[0], device=z.device) % self.num_classes
        rng = torch.Generator(device=z.device).manual_seed(0)
        n_cont = generator.num_continuous
        cont = torch.rand(z.shape[0], n_cont, device=z.device, generator=rng) * 2 - 1
        return generator(z, (labels, cont))

    def preview(self, generator, z, images):
        """Rows are the categorical code; columns sweep the first continuous code from -1 to 1
        with the noise held fixed, which shows what each code has learned to control."""
        device = z.device
        if not images:
            labels = torch.arange(len(z), device=device) % self.num_classes
            cont = torch.zeros(len(z), generator.num_continuous, device=device)
            return generator(z, (labels, cont))
        rows = min(self.num_classes, MAX_GRID_CLASSES)
        labels = torch.arange(rows, device=device).repeat_interleave(GRID_COLUMNS)
        cont = torch.zeros(len(labels), generator.num_continuous, device=device)
        if generator.num_continuous:
            cont[:, 0] = torch.linspace(-1, 1, GRID_COLUMNS, device=device).repeat(rows)
        return generator(z[:1].expand(len(labels), -1), (labels, cont))


def join_aux(real_aux, fake_aux):
    """Join the auxiliary outputs of a real and a fake call (a tensor or a tuple of them)."""
    if real_aux is None:
        return None
    if isinstance(real_aux, tuple):
        return tuple(torch.cat(pair) for pair in zip(real_aux, fake_aux, strict=True))
    return torch.cat([real_aux, fake_aux])
