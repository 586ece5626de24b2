"""Model pairs by name: the article's convolutional pair for images, an MLP pair for 2-D data,
their conditional variants (CGAN, ACGAN, InfoGAN), PacGAN-sized and autoencoder (EBGAN/BEGAN)
discriminators."""

from __future__ import annotations

from torch import nn

from ganwatch.catalog import MODELS
from ganwatch.models.article import Discriminator, Generator
from ganwatch.models.autoencoder import (
    ENERGIES,
    AutoencoderDiscriminator,
    ConvAutoencoderDiscriminator,
    MLPAutoencoderDiscriminator,
)
from ganwatch.models.conditional import (
    ACGANDiscriminator,
    CGANDiscriminator,
    ConditionalGenerator,
    InfoGANDiscriminator,
    InfoGANGenerator,
)
from ganwatch.models.mlp import (
    ImageMLPDiscriminator,
    ImageMLPGenerator,
    MLPDiscriminator,
    MLPGenerator,
)

__all__ = [
    "ACGANDiscriminator",
    "AutoencoderDiscriminator",
    "CGANDiscriminator",
    "ConditionalGenerator",
    "ConvAutoencoderDiscriminator",
    "Discriminator",
    "Generator",
    "InfoGANDiscriminator",
    "ImageMLPDiscriminator",
    "ImageMLPGenerator",
    "InfoGANGenerator",
    "MLPAutoencoderDiscriminator",
    "MLPDiscriminator",
    "MLPGenerator",
    "build_models",
]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _is_image(sample_shape: tuple[int, ...]) -> bool:
    return len(sample_shape) == 3 and tuple(sample_shape[1:]) == (28, 28)


def _plain_generator(image: bool, inputs: int, sample_shape: tuple[int, ...]) -> nn.Module:
    """The article generator for images, the MLP one for vectors, taking ``inputs`` numbers."""
    if image:
        return Generator(inputs, sample_shape[0])
    return MLPGenerator(inputs, sample_shape[0])


def _plain_discriminator(image: bool, width: int) -> nn.Module:
    """The article / MLP discriminator for ``width`` input channels / features."""
    return Discriminator(width) if image else MLPDiscriminator(width)


def _dense_image_pair(
    latent_dim: int, sample_shape: tuple[int, ...], pack: int, energy: str | None
) -> tuple[nn.Module, nn.Module]:
    """The fully connected pair for images (``--model mlp`` on image data)."""
    if energy is not None:
        raise ValueError(
            f"model 'mlp' on images has no autoencoder discriminator for energy={energy!r}; "
            "use the article's model (--model article) with ebgan or began"
        )
    width = pack
    for size in sample_shape:
        width *= size
    return ImageMLPGenerator(latent_dim, sample_shape), ImageMLPDiscriminator(width)


def build_models(
    kind: str,
    latent_dim: int,
    sample_shape: tuple[int, ...],
    *,
    num_classes: int = 10,
    num_continuous: int = 2,
    pack: int = 1,
    energy: str | None = None,
) -> tuple[nn.Module, nn.Module]:
    """Build (generator, discriminator) for data whose per-sample shape is ``sample_shape``.

    ``kind`` "auto" picks the article's pair for (C, 28, 28) images and the MLP pair for points;
    "cgan", "acgan" and "infogan" build on the same pairs (see ``models.conditional``), with
    ``num_classes`` labels (InfoGAN: categories of its categorical code, plus ``num_continuous``
    continuous codes). ``pack`` (PacGAN, Lin et al., 2018) widens the discriminator's input to
    ``pack`` samples joined along channels / features, so it can see a lack of diversity;
    the generator is unchanged. ``energy`` "l2" (EBGAN) or "l1" (BEGAN) makes the
    discriminator an autoencoder returning a per-sample energy (see ``models.autoencoder``).
    """
    if kind not in MODELS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of: {', '.join(MODELS)}")
    _positive_int("latent_dim", latent_dim)
    _positive_int("pack", pack)
    if energy is not None and energy not in ENERGIES:
        raise ValueError(f"energy must be None or one of {', '.join(ENERGIES)}, got {energy!r}")
    sample_shape = tuple(sample_shape)
    image = _is_image(sample_shape)
    if kind == "auto":
        kind = "article" if len(sample_shape) == 3 else "mlp"
    if kind == "article" and not image:
        raise ValueError(f"model 'article' needs (C, 28, 28) images, got samples of {sample_shape}")
    if kind == "mlp" and image:
        return _dense_image_pair(latent_dim, sample_shape, pack, energy)
    if kind == "mlp" and len(sample_shape) != 1:
        raise ValueError(
            f"model 'mlp' needs vectors or (C, 28, 28) images, got samples of {sample_shape}"
        )
    if not MODELS[kind].conditional:
        return _plain_pair(image, latent_dim, sample_shape, pack, energy)
    return _conditional_pair(
        kind, image, latent_dim, sample_shape, num_classes, num_continuous, pack, energy
    )


def _plain_pair(
    image: bool, latent_dim: int, sample_shape: tuple[int, ...], pack: int, energy: str | None
) -> tuple[nn.Module, nn.Module]:
    width = pack * sample_shape[0]  # PacGAN: pack samples side by side on channels/features
    generator = _plain_generator(image, latent_dim, sample_shape)
    if energy is None:
        return generator, _plain_discriminator(image, width)
    if image:
        return generator, ConvAutoencoderDiscriminator(width, energy)
    return generator, MLPAutoencoderDiscriminator(width, energy)


def _conditional_pair(
    kind: str,
    image: bool,
    latent_dim: int,
    sample_shape: tuple[int, ...],
    num_classes: int,
    num_continuous: int,
    pack: int,
    energy: str | None,
) -> tuple[nn.Module, nn.Module]:
    if not image and len(sample_shape) != 1:
        raise ValueError(
            f"model {kind!r} needs (C, 28, 28) images or vectors, got samples of {sample_shape}"
        )
    if pack != 1:
        raise ValueError(
            f"pack={pack} (PacGAN) is not supported with conditional model {kind!r}; use pack=1"
        )
    if energy is not None:
        raise ValueError(
            f"energy={energy!r} (autoencoder discriminator) is not supported with conditional "
            f"model {kind!r}; use energy=None"
        )
    _positive_int("num_classes", num_classes)
    channels = sample_shape[0]
    if kind == "infogan":
        _positive_int("num_continuous", num_continuous)
        base_g = _plain_generator(image, latent_dim + num_classes + num_continuous, sample_shape)
        generator = InfoGANGenerator(base_g, latent_dim, num_classes, num_continuous)
        discriminator = InfoGANDiscriminator(
            _plain_discriminator(image, channels), num_classes, num_continuous
        )
        return generator, discriminator
    base_g = _plain_generator(image, latent_dim + num_classes, sample_shape)
    cond_generator = ConditionalGenerator(base_g, latent_dim, num_classes)
    if kind == "cgan":
        d = CGANDiscriminator(_plain_discriminator(image, channels + num_classes), num_classes)
        return cond_generator, d
    return cond_generator, ACGANDiscriminator(_plain_discriminator(image, channels), num_classes)
