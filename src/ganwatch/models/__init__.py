"""Model pairs by name: the article's convolutional pair for images, an MLP pair for 2-D data."""

from __future__ import annotations

from torch import nn

from ganwatch.models.article import Discriminator, Generator
from ganwatch.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = ["Discriminator", "Generator", "MLPDiscriminator", "MLPGenerator", "build_models"]


def build_models(
    kind: str, latent_dim: int, sample_shape: tuple[int, ...]
) -> tuple[nn.Module, nn.Module]:
    """Build (generator, discriminator) for data whose per-sample shape is ``sample_shape``.

    ``kind`` "auto" picks the article's pair for (C, 28, 28) images and the MLP pair for points.
    """
    if kind == "auto":
        kind = "article" if len(sample_shape) == 3 else "mlp"
    if kind == "article":
        if len(sample_shape) != 3 or sample_shape[1:] != (28, 28):
            raise ValueError(
                f"model 'article' needs (C, 28, 28) images, got samples of {sample_shape}"
            )
        return Generator(latent_dim, sample_shape[0]), Discriminator(sample_shape[0])
    if kind == "mlp":
        if len(sample_shape) != 1:
            raise ValueError(f"model 'mlp' needs vectors, got samples of shape {sample_shape}")
        return MLPGenerator(latent_dim, sample_shape[0]), MLPDiscriminator(sample_shape[0])
    raise ValueError(f"unknown model {kind!r}; expected one of: auto, article, mlp")
