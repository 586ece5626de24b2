"""CGAN, ACGAN and InfoGAN pairs: shapes, that labels and codes really condition, that the
extra heads share one features pass, and that ``forward`` goes through ``classifier``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganwatch.models import (
    ACGANDiscriminator,
    CGANDiscriminator,
    ConditionalGenerator,
    Discriminator,
    InfoGANDiscriminator,
    InfoGANGenerator,
    MLPDiscriminator,
    build_models,
)

# (sample shape, num_classes): MNIST digits, and the ring (8) and grid (25) toy mixtures.
DATA = [((1, 28, 28), 10), ((2,), 8), ((2,), 25)]
LATENT = 4
B = 3


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def data(shape: tuple[int, ...], n: int = B) -> torch.Tensor:
    return torch.rand(n, *shape) * 2 - 1


def labels(num_classes: int, n: int = B) -> torch.Tensor:
    return torch.arange(n) % num_classes


def codes(num_classes: int, num_continuous: int = 2, n: int = B):
    return labels(num_classes, n), torch.rand(n, num_continuous) * 2 - 1


@pytest.fixture(autouse=True)
def seeded() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_cgan_shapes_and_attributes(shape, k):
    g, d = build_models("cgan", LATENT, shape, num_classes=k)
    assert isinstance(g, ConditionalGenerator) and isinstance(d, CGANDiscriminator)
    assert (g.latent_dim, g.num_classes, d.num_classes) == (LATENT, k, k)
    assert g.base.latent_dim == LATENT + k  # the base generator reads z ++ one_hot
    y = labels(k)
    fake = g(torch.randn(B, LATENT), y)
    assert fake.shape == (B, *shape)
    assert d(fake, y).shape == (B, 1)
    assert d.features(fake, y).shape == (B, d.classifier.in_features)
    assert isinstance(d.classifier, nn.Linear) and d.classifier.out_features == 1


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_acgan_shapes_and_attributes(shape, k):
    g, d = build_models("acgan", LATENT, shape, num_classes=k)
    assert isinstance(g, ConditionalGenerator) and isinstance(d, ACGANDiscriminator)
    assert (g.latent_dim, g.num_classes, d.num_classes) == (LATENT, k, k)
    fake = g(torch.randn(B, LATENT), labels(k))
    assert fake.shape == (B, *shape)
    assert d(fake).shape == (B, 1)
    adv, cls = d.classify(fake)
    assert adv.shape == (B, 1) and cls.shape == (B, k)
    assert d.features(fake).shape == (B, d.classifier.in_features)


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_infogan_shapes_and_attributes(shape, k):
    g, d = build_models("infogan", LATENT, shape, num_classes=k, num_continuous=3)
    assert isinstance(g, InfoGANGenerator) and isinstance(d, InfoGANDiscriminator)
    assert (g.latent_dim, g.num_classes, g.num_categories, g.num_continuous) == (LATENT, k, k, 3)
    assert d.num_classes == k
    assert g.base.latent_dim == LATENT + k + 3
    fake = g(torch.randn(B, LATENT), codes(k, 3))
    assert fake.shape == (B, *shape)
    assert d(fake).shape == (B, 1)
    adv, cat, cont = d.infer(fake)
    assert (adv.shape, cat.shape, cont.shape) == ((B, 1), (B, k), (B, 3))


@pytest.mark.parametrize(("shape", "k"), DATA)
@pytest.mark.parametrize("kind", ["cgan", "acgan"])
def test_generator_is_the_base_on_z_and_one_hot(kind, shape, k):
    g, _ = build_models(kind, LATENT, shape, num_classes=k)
    z, y = torch.randn(B, LATENT), labels(k)
    by_hand = g.base(torch.cat([z, F.one_hot(y, k).float()], dim=1))
    assert torch.allclose(g(z, y), by_hand)


@pytest.mark.parametrize(("shape", "k"), DATA)
@pytest.mark.parametrize("kind", ["cgan", "acgan"])
def test_labels_condition_the_generator(kind, shape, k):
    g, _ = build_models(kind, LATENT, shape, num_classes=k)
    z = torch.randn(1, LATENT).expand(k, -1)  # the same noise for every class
    out = g(z, torch.arange(k)).flatten(1)
    assert torch.cdist(out, out).add(torch.eye(k)).min() > 1e-4  # all k outputs differ


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_labels_condition_the_cgan_discriminator(shape, k):
    _, d = build_models("cgan", LATENT, shape, num_classes=k)
    x = data(shape, 1).expand(k, *shape)  # the same sample under every label
    out = d(x, torch.arange(k)).flatten()
    assert (out[:, None] - out[None, :]).abs().add(torch.eye(k)).min() > 1e-6


def test_cgan_image_discriminator_sees_labels_as_constant_channels():
    _, d = build_models("cgan", LATENT, (1, 28, 28), num_classes=10)
    x, y = data((1, 28, 28)), torch.tensor([0, 3, 9])
    planes = F.one_hot(y, 10).float()[:, :, None, None].expand(-1, -1, 28, 28)
    by_hand = d.classifier(d.body.features(torch.cat([x, planes], dim=1)))
    assert torch.allclose(d(x, y), by_hand)
    assert d.body.conv[0].in_channels == 1 + 10


def test_cgan_point_discriminator_sees_labels_as_extra_features():
    _, d = build_models("cgan", LATENT, (2,), num_classes=8)
    x, y = data((2,)), torch.tensor([1, 5, 7])
    by_hand = d.classifier(d.body.features(torch.cat([x, F.one_hot(y, 8).float()], dim=1)))
    assert torch.allclose(d(x, y), by_hand)


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_infogan_codes_change_the_output(shape, k):
    g, _ = build_models("infogan", LATENT, shape, num_classes=k)
    z = torch.randn(1, LATENT).expand(k, -1)
    cont = torch.zeros(k, 2)
    by_category = g(z, (torch.arange(k), cont)).flatten(1)
    assert torch.cdist(by_category, by_category).add(torch.eye(k)).min() > 1e-4
    cat = torch.zeros(2, dtype=torch.long)
    moved = g(z[:2], (cat, torch.tensor([[0.0, 0.0], [1.0, 0.0]])))
    assert (moved[0] - moved[1]).abs().max() > 1e-4
    moved = g(z[:2], (cat, torch.tensor([[0.0, 0.0], [0.0, -1.0]])))
    assert (moved[0] - moved[1]).abs().max() > 1e-4


def test_infogan_generator_is_the_base_on_z_one_hot_and_cont():
    g, _ = build_models("infogan", LATENT, (2,), num_classes=8, num_continuous=2)
    z, (cat, cont) = torch.randn(B, LATENT), codes(8)
    by_hand = g.base(torch.cat([z, F.one_hot(cat, 8).float(), cont], dim=1))
    assert torch.allclose(g(z, (cat, cont)), by_hand)


def test_infogan_rejects_wrongly_shaped_continuous_codes():
    g, _ = build_models("infogan", LATENT, (2,), num_classes=8, num_continuous=2)
    with pytest.raises(ValueError, match="continuous codes must have shape"):
        g(torch.randn(B, LATENT), (labels(8), torch.zeros(B, 3)))


def count_feature_passes(d: nn.Module) -> list[int]:
    calls = [0]
    original = d.features

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls[0] += 1
        return original(x)

    d.features = counted
    return calls


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_acgan_classify_shares_one_pass_and_matches_forward(shape, k):
    _, d = build_models("acgan", LATENT, shape, num_classes=k)
    x = data(shape)
    calls = count_feature_passes(d)
    adv, cls = d.classify(x)
    assert calls[0] == 1
    assert torch.allclose(adv, d(x))
    assert torch.allclose(cls, d.aux(d.features(x)))


@pytest.mark.parametrize(("shape", "k"), DATA)
def test_infogan_infer_shares_one_pass_and_matches_forward(shape, k):
    _, d = build_models("infogan", LATENT, shape, num_classes=k)
    x = data(shape)
    calls = count_feature_passes(d)
    adv, cat, cont = d.infer(x)
    assert calls[0] == 1
    assert torch.allclose(adv, d(x))
    q = d.q_hidden(d.features(x))
    assert torch.allclose(cat, d.q_categorical(q)) and torch.allclose(cont, d.q_continuous(q))


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
@pytest.mark.parametrize("kind", ["cgan", "acgan", "infogan"])
def test_forward_goes_through_a_replaceable_classifier(kind, shape):
    _, d = build_models(kind, LATENT, shape, num_classes=8)
    x = data(shape)
    extra = (labels(8),) if kind == "cgan" else ()
    assert torch.allclose(d(x, *extra), d.classifier(d.features(x, *extra)))
    # What minibatch discrimination does at run time: a new head must be what forward uses.
    head = nn.Linear(d.classifier.in_features, 1)
    nn.init.zeros_(head.weight)
    nn.init.constant_(head.bias, 3.0)
    d.classifier = nn.Sequential(nn.Identity(), head)
    assert torch.equal(d(x, *extra), torch.full((B, 1), 3.0))


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
def test_heads_are_registered_once(shape):
    """The plain discriminator's head moves to the wrapper; it is not kept twice."""
    plain = Discriminator(1) if len(shape) == 3 else MLPDiscriminator(2)
    feat = plain.classifier.in_features
    _, acgan = build_models("acgan", LATENT, shape, num_classes=8)
    assert count(acgan) == count(plain) + feat * 8 + 8
    _, info = build_models("infogan", LATENT, shape, num_classes=8, num_continuous=2)
    q = (feat * 128 + 128) + (128 * 8 + 8) + (128 * 2 + 2)
    assert count(info) == count(plain) + q
    assert not any(k.startswith("body.classifier") for k in info.state_dict())


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
@pytest.mark.parametrize("kind", ["cgan", "acgan", "infogan"])
def test_gradients_reach_every_parameter(kind, shape):
    g, d = build_models(kind, LATENT, shape, num_classes=8)
    z = torch.randn(B, LATENT)
    if kind == "infogan":
        fake = g(z, codes(8))
        loss = sum(out.square().sum() for out in d.infer(fake))
    elif kind == "acgan":
        fake = g(z, labels(8))
        loss = sum(out.square().sum() for out in d.classify(fake))
    else:
        fake = g(z, labels(8))
        loss = d(fake, labels(8)).square().sum()
    loss.backward()
    for name, p in [*g.named_parameters(), *d.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name
