"""Gradient penalties with discriminators whose input gradient is known in closed form, and
WGAN weight clipping."""

import math

import pytest
import torch
from torch import nn

from ganwatch.losses import (
    DRAGAN_WEIGHT,
    GP_WEIGHT,
    WGAN_CLIP,
    clip_weights_,
    dragan_penalty,
    gradient_penalty,
)

TOL = {"rel": 1e-6, "abs": 1e-7}

# w over (C, H, W) = (2, 2, 2) holds 1..8: ||w||^2 = 1 + 4 + ... + 64 = 204.
W = torch.arange(1.0, 9.0, dtype=torch.float64).reshape(2, 2, 2)
W_NORM = math.sqrt(204.0)
# The same gradient normed over dim 1 only (the channel pairs (1, 5), (2, 6), (3, 7), (4, 8)).
W_WRONG_DIMS = sum((math.sqrt(a * a + b * b) - 1) ** 2 for a, b in [(1, 5), (2, 6), (3, 7), (4, 8)])
W_WRONG_DIMS /= 4


class Linear(nn.Module):
    """D(x) = sum of w * x per sample: its input gradient is w everywhere."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(W.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.w * x).flatten(1).sum(1)


def square(x: torch.Tensor) -> torch.Tensor:
    """D(x) = ||x||^2 per sample: its input gradient is 2 x."""
    return (x**2).flatten(1).sum(1)


def _images() -> torch.Tensor:
    """(B, C, H, W) = (2, 2, 2, 2): sample 0 all 0.5 (||x|| = sqrt(2)); sample 1 has channel 0
    all 1 and channel 1 all 0 (||x|| = 2)."""
    x = torch.zeros(2, 2, 2, 2, dtype=torch.float64)
    x[0] = 0.5
    x[1, 0] = 1.0
    return x


# For square at x = _images(): per-sample norms of 2x are 2 sqrt(2) and 4.
SQUARE_RIGHT = ((2 * math.sqrt(2) - 1) ** 2 + (4 - 1) ** 2) / 2
# Normed over dim 1 only: sample 0 has (1, 1) at each pixel (norm sqrt 2), sample 1 has (2, 0).
SQUARE_WRONG_DIMS = ((math.sqrt(2) - 1) ** 2 + (2 - 1) ** 2) / 2
# Normed over the whole batch at once: 2 sqrt(2 + 4).
SQUARE_WHOLE_BATCH = (2 * math.sqrt(6) - 1) ** 2


def test_constants():
    assert (GP_WEIGHT, DRAGAN_WEIGHT, WGAN_CLIP) == (10.0, 10.0, 0.01)


def test_the_hand_values_tell_the_right_dims_from_the_wrong_ones():
    assert abs((W_NORM - 1) ** 2 - W_WRONG_DIMS) > 1.0
    assert abs(SQUARE_RIGHT - SQUARE_WRONG_DIMS) > 1.0
    assert abs(SQUARE_RIGHT - SQUARE_WHOLE_BATCH) > 1.0


def test_gradient_penalty_linear_discriminator_is_independent_of_eps():
    torch.manual_seed(0)
    real = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    fake = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    for seed in (0, 1, 2):
        gen = torch.Generator().manual_seed(seed)
        penalty = gradient_penalty(Linear(), real, fake, generator=gen)
        assert penalty.dim() == 0
        assert penalty.item() == pytest.approx((W_NORM - 1) ** 2, **TOL)
        assert penalty.item() != pytest.approx(W_WRONG_DIMS, rel=1e-3)


def test_gradient_penalty_square_discriminator_norm_per_sample_over_chw():
    x = _images()
    penalty = gradient_penalty(square, x, x.clone(), generator=torch.Generator().manual_seed(3))
    assert penalty.item() == pytest.approx(SQUARE_RIGHT, **TOL)
    # float32, as in training: the same up to float32 rounding
    x32 = x.float()
    penalty32 = gradient_penalty(square, x32, x32.clone())
    assert penalty32.dtype == torch.float32
    assert penalty32.item() == pytest.approx(SQUARE_RIGHT, rel=1e-5)


def test_gradient_penalty_backpropagates_into_the_discriminator_only():
    disc = Linear()
    real = torch.randn(2, 2, 2, 2, dtype=torch.float64)
    fake = torch.randn(2, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    penalty = gradient_penalty(disc, real, fake)
    penalty.backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    expected = 2 * (1 - 1 / W_NORM) * W
    torch.testing.assert_close(disc.w.grad, expected, rtol=1e-6, atol=1e-7)
    assert fake.grad is None


def test_gradient_penalty_interpolates_with_one_eps_per_sample_drawn_with_generator():
    seen: list[torch.Tensor] = []

    def recording(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach().clone())
        return square(x)

    real = torch.full((3, 2, 4, 4), 1.0, dtype=torch.float64)
    fake = torch.full((3, 2, 4, 4), -1.0, dtype=torch.float64)
    gradient_penalty(recording, real, fake, generator=torch.Generator().manual_seed(5))
    # x_hat = eps * 1 + (1 - eps) * (-1) = 2 eps - 1, so eps = (x_hat + 1) / 2
    eps = (seen[0] + 1) / 2
    per_sample = eps.flatten(1)
    assert ((per_sample >= 0) & (per_sample < 1)).all()
    torch.testing.assert_close(
        per_sample, per_sample[:, :1].expand_as(per_sample), rtol=0, atol=1e-12
    )
    assert per_sample[0, 0] != per_sample[1, 0]
    # same seed, same interpolates and value; another seed, other ones
    a = gradient_penalty(recording, real, fake, generator=torch.Generator().manual_seed(5))
    b = gradient_penalty(recording, real, fake, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(seen[1], seen[0], rtol=0, atol=0)
    assert not torch.equal(seen[2], seen[0])
    assert a.item() != pytest.approx(b.item(), rel=1e-6)


def test_dragan_linear_discriminator_and_backward():
    torch.manual_seed(0)
    real = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    disc = Linear()
    penalty = dragan_penalty(disc, real, generator=torch.Generator().manual_seed(1))
    assert penalty.dim() == 0
    assert penalty.item() == pytest.approx((W_NORM - 1) ** 2, **TOL)
    penalty.backward()
    torch.testing.assert_close(disc.w.grad, 2 * (1 - 1 / W_NORM) * W, rtol=1e-6, atol=1e-7)


def test_dragan_square_discriminator_without_spread_is_at_the_data():
    penalty = dragan_penalty(square, _images(), spread=0.0)
    assert penalty.item() == pytest.approx(SQUARE_RIGHT, **TOL)


def test_dragan_perturbation_stays_in_its_neighbourhood_and_uses_generator():
    seen: list[torch.Tensor] = []

    def recording(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach().clone())
        return square(x)

    torch.manual_seed(0)
    # a small spread around 5, so that leaving out std(real) would overshoot the bound below
    real = 5 + 0.01 * torch.randn(4, 1, 3, 3, dtype=torch.float64)
    a = dragan_penalty(recording, real, generator=torch.Generator().manual_seed(7), spread=0.5)
    b = dragan_penalty(recording, real, generator=torch.Generator().manual_seed(7), spread=0.5)
    c = dragan_penalty(recording, real, generator=torch.Generator().manual_seed(8), spread=0.5)
    assert a.item() == b.item()
    torch.testing.assert_close(seen[1], seen[0], rtol=0, atol=0)
    assert a.item() != pytest.approx(c.item(), rel=1e-6)
    # x_hat - real = alpha * 0.5 * std(real) * noise, each factor in [0, 1)
    offset = seen[0] - real
    assert (offset >= 0).all()
    assert (offset < 0.5 * real.std()).all()
    assert (offset > 0).any()


def test_clip_weights_clamps_and_leaves_the_rest():
    layer = nn.Linear(4, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -0.003, 0.02, -2.0]]))
        layer.bias.copy_(torch.tensor([0.005]))
    weight = layer.weight
    result = clip_weights_(layer, 0.01)
    assert result is None
    assert layer.weight is weight and layer.weight.requires_grad
    assert layer.weight.grad is None
    torch.testing.assert_close(
        layer.weight.data, torch.tensor([[0.01, -0.003, 0.01, -0.01]]), rtol=0, atol=0
    )
    torch.testing.assert_close(layer.bias.data, torch.tensor([0.005]), rtol=0, atol=0)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(100)
    clip_weights_(model, WGAN_CLIP)
    for p in model.parameters():
        assert p.abs().max().item() <= WGAN_CLIP


def test_dragan_scales_each_samples_perturbation_by_its_own_alpha():
    seen: list[torch.Tensor] = []

    def recording(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach().clone())
        return square(x)

    torch.manual_seed(1)
    real = torch.randn(6, 1, 16, 16, dtype=torch.float64)
    dragan_penalty(recording, real, generator=torch.Generator().manual_seed(0), spread=0.5)
    # the largest of 256 U[0, 1) noises is ~1, so a sample's largest offset over 0.5 std(real)
    # is ~alpha for that sample: these differ between samples (they would all be ~1 without alpha)
    ratio = (seen[0] - real).flatten(1).amax(dim=1) / (0.5 * real.std())
    assert ((ratio >= 0) & (ratio < 1)).all()
    assert (ratio.max() - ratio.min()).item() > 0.1
    # within a sample the offsets are alpha * U[0, 1): their mean is half their maximum (a
    # product of two uniforms per element would give about a quarter)
    half = (seen[0] - real).flatten(1).mean(dim=1) / (seen[0] - real).flatten(1).amax(dim=1)
    assert ((half > 0.4) & (half < 0.6)).all()
