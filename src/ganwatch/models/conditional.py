"""Conditional pairs (CGAN, ACGAN) and InfoGAN, built around the plain article / MLP pairs.

Every class here wraps a plain generator or discriminator instead of redefining layers, so a
conditional run differs from a plain one only in how labels or codes enter and leave:

- CGAN (Mirza & Osindero, 2014, "Conditional Generative Adversarial Nets"): both players see
  the label. The generator gets ``z ++ one_hot(label)``; the discriminator gets the one-hot as
  extra input (constant channels for images, extra features for vectors), so it can reject a
  sample that is realistic but of the wrong class.
- ACGAN (Odena et al., 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs"): the
  generator is CGAN's, but the discriminator does not see the label; it predicts it with an
  auxiliary head on the same features as the real/fake head.
- InfoGAN (Chen et al., 2016, "InfoGAN: Interpretable Representation Learning by Information
  Maximizing Generative Adversarial Nets"): the generator gets unsupervised codes (one
  categorical, some continuous) and a Q head on the discriminator's features recovers them,
  which maximises a lower bound on their mutual information with the samples.

The discriminators keep the plain interface the trainer relies on: ``features`` gives the shared
body's output and ``classifier`` is the final real/fake ``nn.Linear``, which ``forward`` calls on
those features, so replacing ``classifier`` at run time (minibatch discrimination) still works.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Q_HIDDEN = 128  # InfoGAN's Q head: one small hidden layer on the shared features


def one_hot(labels: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """int64 labels (B,) -> float one-hot (B, num_classes) with ``like``'s dtype and device."""
    return F.one_hot(labels.to(like.device), num_classes).to(like.dtype)


def append_condition(x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
    """Join a (B, K) condition onto a batch: as K constant channels for images (B, C, H, W),
    as K extra features for vectors (B, D)."""
    if x.dim() == 4:
        condition = condition[:, :, None, None].expand(-1, -1, *x.shape[2:])
    return torch.cat([x, condition], dim=1)


def split_head(base: nn.Module) -> tuple[nn.Module, nn.Linear]:
    """Take a plain discriminator apart into its body and its final ``Linear(F, 1)``.

    The head moves to the wrapper so that assigning ``wrapper.classifier`` changes what the
    wrapper's ``forward`` computes; the body keeps an ``Identity`` in its place so the head's
    parameters are registered (and optimised, and saved) exactly once.
    """
    head = base.classifier
    if not isinstance(head, nn.Linear):
        raise TypeError(f"expected a plain discriminator with a Linear head, got {head!r}")
    base.classifier = nn.Identity()
    return base, head


class ConditionalGenerator(nn.Module):
    """CGAN/ACGAN generator: ``G(z, labels) = base(z ++ one_hot(labels))``.

    ``base`` must take ``latent_dim + num_classes`` inputs; ``latent_dim`` here is the noise
    size only, which is what the trainer samples.
    """

    def __init__(self, base: nn.Module, latent_dim: int, num_classes: int) -> None:
        super().__init__()
        self.base = base
        self.latent_dim = latent_dim
        self.num_classes = num_classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.base(torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1))


class InfoGANGenerator(nn.Module):
    """InfoGAN generator: ``G(z, (cat, cont)) = base(z ++ one_hot(cat) ++ cont)``.

    ``cat`` is int64 (B,) in [0, num_categories), ``cont`` is float (B, num_continuous) (Chen et
    al. draw it uniformly from [-1, 1]). ``base`` takes the sum of the three sizes as input.
    """

    def __init__(
        self, base: nn.Module, latent_dim: int, num_categories: int, num_continuous: int
    ) -> None:
        super().__init__()
        self.base = base
        self.latent_dim = latent_dim
        self.num_categories = num_categories
        self.num_classes = num_categories  # the categorical code plays the label's role
        self.num_continuous = num_continuous

    def forward(self, z: torch.Tensor, codes: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        cat, cont = codes
        if cont.shape != (z.shape[0], self.num_continuous):
            raise ValueError(
                f"continuous codes must have shape ({z.shape[0]}, {self.num_continuous}), "
                f"got {tuple(cont.shape)}"
            )
        cat_1h = one_hot(cat, self.num_categories, z)
        return self.base(torch.cat([z, cat_1h, cont.to(z.dtype)], dim=1))


class CGANDiscriminator(nn.Module):
    """CGAN discriminator: ``D(x, labels)`` is the base discriminator on ``x ++ one_hot``.

    ``base`` must accept the widened input: ``C + num_classes`` channels for images,
    ``D + num_classes`` features for vectors.
    """

    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body, self.classifier = split_head(base)
        self.num_classes = num_classes

    def features(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.body.features(append_condition(x, one_hot(labels, self.num_classes, x)))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x, labels))


class _SharedBodyDiscriminator(nn.Module):
    """A plain discriminator's body and real/fake head, to which subclasses add heads that read
    the same features (one body pass serves every head)."""

    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body, self.classifier = split_head(base)
        self.num_classes = num_classes
        self.feature_dim = self.classifier.in_features

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class ACGANDiscriminator(_SharedBodyDiscriminator):
    """ACGAN discriminator: real/fake logit plus class logits from an auxiliary linear head."""

    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__(base, num_classes)
        self.aux = nn.Linear(self.feature_dim, num_classes)

    def classify(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(real/fake logits (B, 1), class logits (B, num_classes)) from one features pass."""
        h = self.features(x)
        return self.classifier(h), self.aux(h)


class InfoGANDiscriminator(_SharedBodyDiscriminator):
    """InfoGAN discriminator with its Q head.

    As in Chen et al., Q shares the whole body with D and adds one hidden layer, then a
    categorical output (logits) and a continuous output. Q predicts only the mean of each
    continuous code: with a fixed unit variance the Gaussian log-likelihood is, up to constants,
    the squared error, which is the usual stable choice.
    """

    def __init__(self, base: nn.Module, num_categories: int, num_continuous: int) -> None:
        super().__init__(base, num_categories)
        self.num_continuous = num_continuous
        self.q_hidden = nn.Sequential(nn.Linear(self.feature_dim, Q_HIDDEN), nn.LeakyReLU(0.2))
        self.q_categorical = nn.Linear(Q_HIDDEN, num_categories)
        self.q_continuous = nn.Linear(Q_HIDDEN, num_continuous)

    def infer(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(real/fake logits (B, 1), categorical logits (B, K), continuous means (B, N)) from
        one features pass."""
        h = self.features(x)
        q = self.q_hidden(h)
        return self.classifier(h), self.q_categorical(q), self.q_continuous(q)
