"""Autoencoder (EBGAN/BEGAN) discriminators: energy shapes, energies computed by hand, the
embedding as features, gradients, packed inputs, and no ``classifier`` attribute."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganwatch.models import (
    AutoencoderDiscriminator,
    ConvAutoencoderDiscriminator,
    Discriminator,
    MLPAutoencoderDiscriminator,
    build_models,
)
from ganwatch.models.autoencoder import IMAGE_EMBEDDING, POINT_EMBEDDING

B = 3
# (per-sample shape, pack, embedding size)
CASES = [
    ((1, 28, 28), 1, IMAGE_EMBEDDING),
    ((1, 28, 28), 4, IMAGE_EMBEDDING),
    ((3, 28, 28), 1, IMAGE_EMBEDDING),
    ((2,), 1, POINT_EMBEDDING),
    ((2,), 4, POINT_EMBEDDING),
]


@pytest.fixture(autouse=True)
def seeded() -> None:
    torch.manual_seed(0)


def packed_input(shape: tuple[int, ...], pack: int) -> torch.Tensor:
    """A batch as the packed discriminator sees it: pack samples along dim 1."""
    return torch.rand(B, pack * shape[0], *shape[1:]) * 2 - 1


def zero_decoder(d: AutoencoderDiscriminator) -> None:
    with torch.no_grad():
        for p in d.decoder.parameters():
            p.zero_()


@pytest.mark.parametrize(("shape", "pack", "emb"), CASES)
@pytest.mark.parametrize("energy", ["l2", "l1"])
def test_energy_and_embedding_shapes(shape, pack, emb, energy):
    g, d = build_models("auto", 5, shape, pack=pack, energy=energy)
    expected = ConvAutoencoderDiscriminator if len(shape) == 3 else MLPAutoencoderDiscriminator
    assert isinstance(d, expected) and d.energy == energy
    assert g(torch.randn(B, 5)).shape == (B, *shape)  # the generator is not packed
    x = packed_input(shape, pack)
    e, h = d.energy_and_embedding(x)
    assert e.shape == (B,) and e.dtype == torch.float32
    assert h.shape == (B, emb)
    assert torch.equal(d(x), e) and torch.equal(d.features(x), h)
    assert (e >= 0).all()
    assert d.decoder(h).shape == x.shape  # the decoder mirrors the encoder back to x's shape


@pytest.mark.parametrize(("shape", "pack", "emb"), CASES)
def test_zeroed_decoder_gives_mean_square_and_mean_abs(shape, pack, emb):
    x = packed_input(shape, pack)
    _, l2 = build_models("auto", 5, shape, pack=pack, energy="l2")
    _, l1 = build_models("auto", 5, shape, pack=pack, energy="l1")
    zero_decoder(l2)
    zero_decoder(l1)
    dims = tuple(range(1, x.dim()))
    assert torch.allclose(l2(x), x.square().mean(dim=dims))
    assert torch.allclose(l1(x), x.abs().mean(dim=dims))
    assert not torch.allclose(l2(x), l1(x))


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
@pytest.mark.parametrize("energy", ["l2", "l1"])
def test_energy_is_the_reconstruction_error(shape, energy):
    _, d = build_models("auto", 5, shape, energy=energy)
    x = packed_input(shape, 1)
    error = d.decoder(d.encoder(x)) - x
    error = error.square() if energy == "l2" else error.abs()
    assert torch.allclose(d(x), error.flatten(1).mean(dim=1))


@pytest.mark.parametrize(("shape", "pack", "emb"), CASES)
@pytest.mark.parametrize("energy", ["l2", "l1"])
def test_gradients_flow_from_energy_to_every_parameter(shape, pack, emb, energy):
    _, d = build_models("auto", 5, shape, pack=pack, energy=energy)
    x = packed_input(shape, pack).requires_grad_()
    d(x).sum().backward()
    for name, p in d.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
def test_no_classifier_attribute(shape):
    """Minibatch discrimination detects autoencoder discriminators by this absence."""
    _, d = build_models("auto", 5, shape, energy="l2")
    assert not hasattr(d, "classifier")


def test_image_encoder_is_the_article_conv_body():
    d = ConvAutoencoderDiscriminator(2)
    article = Discriminator(2)
    body = d.encoder[0]
    assert [tuple(p.shape) for p in body.parameters()] == [
        tuple(p.shape) for p in article.conv.parameters()
    ]
    assert body(torch.zeros(1, 2, 28, 28)).shape == (1, 64, 7, 7)
    assert isinstance(d.decoder[-1], nn.ConvTranspose2d)  # no tanh on the reconstruction


def test_bad_energy_is_rejected():
    with pytest.raises(ValueError, match="energy must be one of l2, l1"):
        MLPAutoencoderDiscriminator(2, energy="huber")


def test_same_seed_same_weights():
    torch.manual_seed(7)
    a = ConvAutoencoderDiscriminator(1)
    torch.manual_seed(7)
    b = ConvAutoencoderDiscriminator(1)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
