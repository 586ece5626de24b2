"""EBGAN and BEGAN losses, the pull-away term and BEGAN's k controller against hand values."""

import math

import pytest
import torch

from ganwatch.losses import (
    BEGAN_GAMMA,
    BEGAN_LAMBDA_K,
    EBGAN_MARGIN,
    began_convergence,
    began_discriminator_loss,
    began_generator_loss,
    began_update_k,
    ebgan_discriminator_loss,
    ebgan_generator_loss,
    pullaway_term,
)

TOL = {"rel": 1e-6, "abs": 1e-7}


def test_constants():
    assert (BEGAN_GAMMA, BEGAN_LAMBDA_K) == (0.5, 0.001)
    # per-pixel MSE of data in [-1, 1] lies in [0, 4]; the margin must be reachable
    assert 0 < EBGAN_MARGIN < 4


def test_ebgan_discriminator_loss_by_hand():
    real = torch.tensor([0.2, 0.4])
    fake = torch.tensor([0.5, 1.5, 0.9])
    loss_real, loss_fake = ebgan_discriminator_loss(real, fake, margin=1.0)
    assert loss_real.item() == pytest.approx(0.3, **TOL)
    # relu(1 - 0.5) + relu(1 - 1.5) + relu(1 - 0.9) = 0.5 + 0 + 0.1
    assert loss_fake.item() == pytest.approx(0.6 / 3, **TOL)
    _, wider = ebgan_discriminator_loss(real, fake, margin=2.0)
    assert wider.item() == pytest.approx((1.5 + 0.5 + 1.1) / 3, **TOL)


def test_ebgan_generator_loss_by_hand():
    fake = torch.tensor([0.5, 1.5, 0.9])
    assert ebgan_generator_loss(fake).item() == pytest.approx(2.9 / 3, **TOL)
    orthogonal = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert ebgan_generator_loss(fake, orthogonal).item() == pytest.approx(2.9 / 3, **TOL)
    # rows at 45 degrees: cos^2 = 1/2 for both ordered pairs, PT = (1/2 + 1/2) / 2 = 1/2
    diagonal = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert ebgan_generator_loss(fake, diagonal).item() == pytest.approx(2.9 / 3 + 0.1 * 0.5, **TOL)
    assert ebgan_generator_loss(fake, diagonal, pullaway_weight=1.0).item() == pytest.approx(
        2.9 / 3 + 0.5, **TOL
    )


def test_pullaway_orthogonal_parallel_and_three_rows():
    assert pullaway_term(torch.tensor([[1.0, 0.0], [0.0, 3.0]])).item() == pytest.approx(0.0, **TOL)
    assert pullaway_term(torch.tensor([[1.0, 2.0], [2.0, 4.0]])).item() == pytest.approx(1.0, **TOL)
    assert pullaway_term(torch.tensor([[1.0, 2.0], [-3.0, -6.0]])).item() == pytest.approx(
        1.0, **TOL
    )
    # a = (1, 0), b = (1, 1), c = (0, 2): cos(a, b) = cos(b, c) = 1/sqrt(2), cos(a, c) = 0;
    # sum over i != j of cos^2 = 2 * (1/2 + 0 + 1/2) = 2, over N (N - 1) = 6
    rows = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    assert pullaway_term(rows).item() == pytest.approx(2 / 6, **TOL)
    # a 3-D example: (1, 1, 0), (1, 0, 1), (0, 0, 3); cos = 1/2, 0, 1/sqrt(2)
    rows3 = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 3.0]])
    expected = 2 * (0.25 + 0.0 + (1 / math.sqrt(2)) ** 2) / 6
    assert pullaway_term(rows3).item() == pytest.approx(expected, **TOL)
    # per-sample feature maps are flattened
    assert pullaway_term(rows.reshape(3, 1, 2, 1)).item() == pytest.approx(2 / 6, **TOL)


def test_pullaway_single_row_is_zero_and_gradient_flows():
    single = pullaway_term(torch.tensor([[1.0, 2.0]]))
    assert single.dim() == 0 and single.item() == 0.0
    rows = torch.tensor([[1.0, 0.0], [1.0, 1.0]], requires_grad=True)
    pullaway_term(rows).backward()
    assert torch.isfinite(rows.grad).all() and rows.grad.abs().sum() > 0


def test_began_losses_by_hand():
    real = torch.tensor([0.2, 0.4])
    fake = torch.tensor([0.1, 0.5, 0.6])
    loss_real, loss_fake = began_discriminator_loss(real, fake, k=0.25)
    assert loss_real.item() == pytest.approx(0.3, **TOL)
    assert loss_fake.item() == pytest.approx(-0.25 * 0.4, **TOL)
    _, with_tensor_k = began_discriminator_loss(real, fake, torch.tensor(0.5))
    assert with_tensor_k.item() == pytest.approx(-0.2, **TOL)
    _, at_zero = began_discriminator_loss(real, fake, 0.0)
    assert at_zero.item() == pytest.approx(0.0, **TOL)
    assert began_generator_loss(fake).item() == pytest.approx(0.4, **TOL)


def test_began_update_k_one_step_by_hand():
    k = torch.tensor(0.5)
    new = began_update_k(k, torch.tensor(0.2), torch.tensor(0.05), gamma=0.5, lambda_k=0.001)
    # 0.5 + 0.001 * (0.5 * 0.2 - 0.05) = 0.50005
    assert isinstance(new, torch.Tensor) and new.dim() == 0
    assert new.item() == pytest.approx(0.50005, **TOL)
    down = began_update_k(k, torch.tensor(0.2), torch.tensor(0.3), gamma=0.5, lambda_k=0.1)
    assert down.item() == pytest.approx(0.5 + 0.1 * (0.1 - 0.3), **TOL)


def test_began_update_k_is_clamped_and_detached():
    high = began_update_k(
        torch.tensor(0.9995), torch.tensor(1.0), torch.tensor(0.0), gamma=0.5, lambda_k=0.01
    )
    assert high.item() == 1.0
    low = began_update_k(
        torch.tensor(0.0001), torch.tensor(0.0), torch.tensor(1.0), gamma=0.5, lambda_k=0.001
    )
    assert low.item() == 0.0
    real = torch.tensor(0.2, requires_grad=True)
    fake = torch.tensor(0.05, requires_grad=True)
    k = began_update_k(torch.tensor(0.5), real * 1, fake * 1, BEGAN_GAMMA, BEGAN_LAMBDA_K)
    assert not k.requires_grad


def test_began_convergence_by_hand():
    # 0.2 + |0.5 * 0.2 - 0.3| = 0.4; 0.2 + |0.1 - 0.05| = 0.25
    m = began_convergence(torch.tensor(0.2), torch.tensor(0.3), 0.5)
    assert m.item() == pytest.approx(0.4, **TOL)
    assert began_convergence(torch.tensor(0.2), torch.tensor(0.05), 0.5).item() == pytest.approx(
        0.25, **TOL
    )
