"""``build_models``: the plain pairs as before, PacGAN-sized discriminators, deterministic
initialisation, and clear errors for bad arguments and unsupported combinations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganwatch.models import (
    Discriminator,
    Generator,
    MLPDiscriminator,
    MLPGenerator,
    build_models,
)

B = 3


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("kind", ["auto", "article"])
def test_image_kinds_give_the_article_pair_as_before(kind):
    torch.manual_seed(1)
    g, d = build_models(kind, 16, (1, 28, 28))
    torch.manual_seed(1)
    g_ref, d_ref = Generator(16, 1), Discriminator(1)
    assert type(g) is Generator and type(d) is Discriminator
    assert same_weights(g, g_ref) and same_weights(d, d_ref)


@pytest.mark.parametrize("kind", ["auto", "mlp"])
def test_point_kinds_give_the_mlp_pair_as_before(kind):
    torch.manual_seed(1)
    g, d = build_models(kind, 2, (2,))
    torch.manual_seed(1)
    g_ref, d_ref = MLPGenerator(2, 2), MLPDiscriminator(2)
    assert type(g) is MLPGenerator and type(d) is MLPDiscriminator
    assert same_weights(g, g_ref) and same_weights(d, d_ref)


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("auto", {}),
        ("auto", {"pack": 4}),
        ("auto", {"energy": "l2"}),
        ("auto", {"pack": 2, "energy": "l1"}),
        ("cgan", {"num_classes": 8}),
        ("acgan", {"num_classes": 8}),
        ("infogan", {"num_classes": 8, "num_continuous": 3}),
    ],
)
def test_same_seed_same_models(kind, options, shape):
    torch.manual_seed(3)
    g1, d1 = build_models(kind, 4, shape, **options)
    torch.manual_seed(3)
    g2, d2 = build_models(kind, 4, shape, **options)
    assert same_weights(g1, g2) and same_weights(d1, d2)
    torch.manual_seed(4)
    g3, _ = build_models(kind, 4, shape, **options)
    assert not same_weights(g1, g3)


def test_packed_image_discriminator():
    g, d = build_models("article", 8, (1, 28, 28), pack=4)
    assert type(g) is Generator and g(torch.randn(B, 8)).shape == (B, 1, 28, 28)
    assert isinstance(d, Discriminator) and d.conv[0].in_channels == 4
    x = torch.rand(B, 4, 28, 28)
    assert d(x).shape == (B, 1)
    assert torch.allclose(d(x), d.classifier(d.features(x)))
    with pytest.raises(RuntimeError):
        d(torch.rand(B, 1, 28, 28))  # an unpacked batch is the wrong input


def test_packed_stacked_mnist_discriminator():
    _, d = build_models("auto", 8, (3, 28, 28), pack=2)
    assert d(torch.rand(B, 6, 28, 28)).shape == (B, 1)


def test_packed_point_discriminator():
    g, d = build_models("mlp", 2, (2,), pack=4)
    assert type(g) is MLPGenerator and g(torch.randn(B, 2)).shape == (B, 2)
    x = torch.randn(B, 8)
    assert d(x).shape == (B, 1)
    assert torch.allclose(d(x), d.classifier(d.features(x)))
    with pytest.raises(RuntimeError):
        d(torch.randn(B, 2))


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
def test_plain_forward_is_classifier_of_features(shape):
    _, d = build_models("auto", 4, shape)
    x = torch.rand(B, *shape)
    assert isinstance(d.classifier, nn.Linear) and d.classifier.out_features == 1
    assert d.features(x).shape == (B, d.classifier.in_features)
    assert torch.allclose(d(x), d.classifier(d.features(x)))


def test_mlp_on_images_is_the_classic_dense_pair():
    g, d = build_models("mlp", 100, (1, 28, 28), pack=2)
    assert [m.out_features for m in g.modules() if isinstance(m, nn.Linear)] == [
        256,
        512,
        1024,
        784,
    ]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in g.modules()) == 3
    images = g(torch.randn(4, 100))
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1
    packed = images.reshape(2, 2, 28, 28)
    assert d(packed).shape == (2, 1) and d.features(packed).shape == (2, 256)


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("resnet", 2, (2,)), {}, r"unknown model kind 'resnet'; expected one of: auto, article"),
        (("article", 2, (2,)), {}, r"model 'article' needs \(C, 28, 28\) images"),
        (("mlp", 2, (1, 32, 32)), {}, r"model 'mlp' needs vectors or \(C, 28, 28\) images"),
        (("mlp", 2, (1, 28, 28)), {"energy": "l2"}, r"model 'mlp' on images has no autoencoder"),
        (("cgan", 2, (1, 32, 32)), {}, r"model 'cgan' needs \(C, 28, 28\) images or vectors"),
        (("auto", 0, (2,)), {}, r"latent_dim must be a positive integer, got 0"),
        (("auto", 2, (2,)), {"pack": 0}, r"pack must be a positive integer, got 0"),
        (("auto", 2, (2,)), {"pack": 1.5}, r"pack must be a positive integer, got 1.5"),
        (("auto", 2, (2,)), {"energy": "l3"}, r"energy must be None or one of l2, l1, got 'l3'"),
        (
            ("cgan", 2, (2,)),
            {"pack": 2},
            r"pack=2 \(PacGAN\) is not supported with conditional model 'cgan'",
        ),
        (
            ("infogan", 2, (1, 28, 28)),
            {"pack": 4},
            r"pack=4 \(PacGAN\) is not supported with conditional model 'infogan'",
        ),
        (
            ("acgan", 2, (2,)),
            {"energy": "l2"},
            r"energy='l2' \(autoencoder discriminator\) is not supported with conditional model "
            r"'acgan'",
        ),
        (("cgan", 2, (2,)), {"num_classes": 0}, r"num_classes must be a positive integer"),
        (
            ("infogan", 2, (2,)),
            {"num_continuous": 0},
            r"num_continuous must be a positive integer",
        ),
    ],
)
def test_bad_arguments_are_clear_errors(args, options, message):
    with pytest.raises(ValueError, match=message):
        build_models(*args, **options)
