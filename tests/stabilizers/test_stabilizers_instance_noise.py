"""Instance noise: a linear anneal of the std to zero, and seeded Gaussian noise."""

from __future__ import annotations

import pytest
import torch

from ganwatch.stabilizers.instance_noise import add_instance_noise, noise_std


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.2), (25, 0.15), (50, 0.1), (75, 0.05), (100, 0.0), (101, 0.0), (10_000, 0.0)],
)
def test_noise_std_is_linear_from_start_to_zero(step: int, expected: float) -> None:
    assert noise_std(0.2, step, 100) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_noise_std_never_negative_and_non_increasing() -> None:
    values = [noise_std(0.1, step, 7) for step in range(12)]
    assert all(v >= 0 for v in values)
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize("total", [0, -5])
def test_noise_std_without_steps_is_zero(total: int) -> None:
    assert noise_std(0.1, 0, total) == 0.0


def test_noise_std_zero_start_stays_zero() -> None:
    assert noise_std(0.0, 3, 10) == 0.0


def test_zero_std_returns_the_same_tensor() -> None:
    x = torch.randn(4, 3)
    assert add_instance_noise(x, 0.0) is x
    assert add_instance_noise(x, -1.0) is x


def test_zero_std_does_not_consume_random_numbers() -> None:
    gen = torch.Generator().manual_seed(3)
    add_instance_noise(torch.zeros(10), 0.0, gen)
    after = torch.randn(3, generator=gen)
    torch.testing.assert_close(
        after, torch.randn(3, generator=torch.Generator().manual_seed(3)), rtol=0, atol=0
    )


def test_noise_has_the_requested_std_and_zero_mean() -> None:
    x = torch.full((200_000,), 3.0)
    gen = torch.Generator().manual_seed(0)
    noisy = add_instance_noise(x, 0.25, gen)
    diff = noisy - x
    # Standard errors: mean 0.25/sqrt(2e5) ~ 5.6e-4, std ~ 0.25/sqrt(4e5) ~ 4e-4.
    assert diff.mean().item() == pytest.approx(0.0, rel=0, abs=3e-3)
    assert diff.std().item() == pytest.approx(0.25, rel=1e-2, abs=0)
    assert x.eq(3.0).all()  # the input is not modified in place


def test_noise_is_exactly_std_times_the_generators_normal_draws() -> None:
    x = torch.arange(12, dtype=torch.float32).view(3, 4)
    noisy = add_instance_noise(x, 0.5, torch.Generator().manual_seed(7))
    expected = x + 0.5 * torch.randn(3, 4, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(noisy, expected, rtol=0, atol=0)


def test_same_seed_same_noise_other_seed_other_noise() -> None:
    x = torch.zeros(2, 1, 5, 5)
    a = add_instance_noise(x, 0.1, torch.Generator().manual_seed(42))
    b = add_instance_noise(x, 0.1, torch.Generator().manual_seed(42))
    c = add_instance_noise(x, 0.1, torch.Generator().manual_seed(43))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, c)


def test_keeps_shape_and_dtype() -> None:
    x = torch.zeros(2, 3, 4, dtype=torch.float64)
    out = add_instance_noise(x, 0.1, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert out.dtype == torch.float64
