"""The models must be the article's, layer for layer: same shapes, counts and function."""

import torch
from torch import nn

from article_reference import ArticleDiscriminator, ArticleGenerator
from ganwatch.models import Discriminator, Generator, MLPDiscriminator, MLPGenerator, build_models


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def shapes(module: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(p.shape) for p in module.parameters()]


def test_generator_matches_article_shapes_counts_and_output():
    ours, ref = Generator(128), ArticleGenerator(128)
    assert shapes(ours) == shapes(ref)
    # Linear 128->6272, two ConvTranspose 128->128 (4x4), Conv 128->1 (3x3), with biases.
    assert (
        count(ours)
        == count(ref)
        == (128 * 6272 + 6272) + 2 * (128 * 128 * 16 + 128) + (128 * 9 + 1)
    )
    ref.load_state_dict(ours.state_dict())
    z = torch.randn(5, 128)
    out = ours(z)
    assert out.shape == (5, 1, 28, 28)
    assert torch.allclose(out, ref(z), atol=1e-6)
    assert out.abs().max() <= 1.0


def test_discriminator_matches_article_after_sigmoid():
    ours, ref = Discriminator(), ArticleDiscriminator()
    assert shapes(ours) == shapes(ref)
    assert count(ours) == count(ref) == (16 * 64 + 64) + (64 * 64 * 16 + 64) + (3136 + 1)
    ref.load_state_dict(
        {k.replace("classifier.", "classifier.0."): v for k, v in ours.state_dict().items()}
    )
    x = torch.rand(7, 1, 28, 28) * 2 - 1
    assert ours(x).shape == (7, 1)
    assert torch.allclose(torch.sigmoid(ours(x)), ref(x), atol=1e-6)


def test_channels_configurable_for_stacked_mnist():
    g, d = build_models("auto", 16, (3, 28, 28))
    assert isinstance(g, Generator) and isinstance(d, Discriminator)
    assert g(torch.randn(2, 16)).shape == (2, 3, 28, 28)
    assert d(torch.zeros(2, 3, 28, 28)).shape == (2, 1)


def test_small_latent_sizes_of_the_failure_presets():
    for latent in (1, 2):
        assert Generator(latent)(torch.randn(3, latent)).shape == (3, 1, 28, 28)


def test_mlp_pair_for_points():
    g, d = build_models("auto", 2, (2,))
    assert isinstance(g, MLPGenerator) and isinstance(d, MLPDiscriminator)
    assert g(torch.randn(4, 2)).shape == (4, 2)
    assert d(torch.randn(4, 2)).shape == (4, 1)


def test_wrong_model_for_data_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="needs \\(C, 28, 28\\) images"):
        build_models("article", 2, (2,))
    with pytest.raises(ValueError, match="unknown model"):
        build_models("resnet", 2, (2,))
