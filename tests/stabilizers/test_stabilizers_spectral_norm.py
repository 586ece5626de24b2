"""Spectral normalisation: every weight layer parametrised to spectral norm ~1."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganwatch.stabilizers.spectral_norm import apply_spectral_norm


def _sigma(weight: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2).item()


def test_linear_layers_end_with_unit_spectral_norm() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 12), nn.LeakyReLU(0.2), nn.Linear(12, 8), nn.Linear(8, 1))
    with torch.no_grad():
        net[0].weight.mul_(7.0)  # a large norm to begin with
    assert _sigma(net[0].weight) > 2.0
    assert apply_spectral_norm(net) == 3
    net.train()
    x = torch.randn(16, 5)
    for _ in range(50):  # one power iteration per forward pass
        net(x)
    net.eval()
    for layer in (net[0], net[2], net[3]):
        assert parametrize.is_parametrized(layer, "weight")
        assert _sigma(layer.weight) == pytest.approx(1.0, rel=1e-3, abs=1e-3)


def test_weight_is_original_divided_by_its_spectral_norm() -> None:
    torch.manual_seed(1)
    layer = nn.Linear(4, 6)
    apply_spectral_norm(layer)
    for _ in range(50):
        layer(torch.randn(2, 4))
    layer.eval()
    original = layer.parametrizations.weight.original.detach()
    expected = original / torch.linalg.matrix_norm(original, ord=2)
    torch.testing.assert_close(layer.weight.detach(), expected, rtol=1e-3, atol=1e-4)


def test_count_covers_linear_conv_and_transposed_conv_only() -> None:
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.ConvTranspose2d(4, 2, 3),
        nn.Flatten(),
        nn.Linear(2 * 28 * 28, 3),
        nn.Linear(3, 1),
        nn.Conv1d(1, 1, 1),  # not one of the normalised kinds
    )
    assert apply_spectral_norm(net) == 4
    for index in (0, 3, 5, 6):
        assert parametrize.is_parametrized(net[index], "weight")
    assert not parametrize.is_parametrized(net[1])
    assert not parametrize.is_parametrized(net[7])


def test_conv_layers_are_normalised_after_power_iterations() -> None:
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.ConvTranspose2d(3, 2, 2))
    with torch.no_grad():
        net[0].weight.mul_(5.0)
    assert apply_spectral_norm(net) == 2
    x = torch.randn(2, 2, 6, 6)
    for _ in range(50):
        net(x)
    net.eval()
    # Conv2d: weight reshaped (out, in*kh*kw); ConvTranspose2d is normalised along dim 1.
    assert _sigma(net[0].weight) == pytest.approx(1.0, rel=1e-3, abs=1e-3)
    transposed = net[2].weight.detach().transpose(0, 1)
    assert _sigma(transposed) == pytest.approx(1.0, rel=1e-3, abs=1e-3)


def test_module_without_weight_layers_counts_zero() -> None:
    assert apply_spectral_norm(nn.Sequential(nn.ReLU(), nn.Tanh())) == 0


def test_parameters_are_still_trainable() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    apply_spectral_norm(net)
    names = {name for name, _ in net.named_parameters()}
    assert "0.parametrizations.weight.original" in names
    net(torch.randn(4, 3)).sum().backward()
    assert net[0].parametrizations.weight.original.grad is not None
