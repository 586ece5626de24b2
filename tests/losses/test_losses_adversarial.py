"""Adversarial losses against hand-computed values (two-sided tolerances) and BCELoss."""

import math

import pytest
import torch

from ganwatch.losses import (
    bce_discriminator_loss,
    bce_generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    minimax_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)

TOL = {"rel": 1e-6, "abs": 1e-7}


def _softplus(x: float) -> float:
    return math.log(1 + math.exp(x))


def test_hand_computed_values():
    real = torch.tensor([0.0, 2.0])
    fake = torch.tensor([-1.0, 3.0])
    loss_real, loss_fake = bce_discriminator_loss(real, fake)
    # -log(sigmoid(x)) = log(1 + e^-x); -log(1 - sigmoid(x)) = log(1 + e^x)
    expected_real = (math.log(2.0) + math.log(1 + math.exp(-2.0))) / 2
    expected_fake = (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(3.0))) / 2
    assert loss_real.item() == pytest.approx(expected_real, **TOL)
    assert loss_fake.item() == pytest.approx(expected_fake, **TOL)
    assert bce_generator_loss(fake).item() == pytest.approx(
        (math.log(1 + math.exp(1.0)) + math.log(1 + math.exp(-3.0))) / 2, **TOL
    )


def test_one_sided_label_smoothing_by_hand():
    real = torch.tensor([0.0, 2.0, -1.0])
    fake = torch.tensor([0.5])
    loss_real, loss_fake = bce_discriminator_loss(real, fake, real_target=0.9)
    # BCE(sigmoid(x), t) = t * log(1 + e^-x) + (1 - t) * log(1 + e^x)
    expected = (
        (0.9 * math.log(2.0) + 0.1 * math.log(2.0))
        + (0.9 * math.log(1 + math.exp(-2.0)) + 0.1 * math.log(1 + math.exp(2.0)))
        + (0.9 * math.log(1 + math.exp(1.0)) + 0.1 * math.log(1 + math.exp(-1.0)))
    ) / 3
    assert loss_real.item() == pytest.approx(expected, **TOL)
    # smoothing is one-sided: the fake target stays 0
    assert loss_fake.item() == pytest.approx(math.log(1 + math.exp(0.5)), **TOL)
    # and it really changes the real loss (target 1 gives a different number)
    unsmoothed, _ = bce_discriminator_loss(real, fake)
    assert unsmoothed.item() != pytest.approx(expected, **TOL)


def test_equals_the_articles_bceloss_on_sigmoid_outputs():
    torch.manual_seed(0)
    real, fake = torch.randn(64, 1) * 3, torch.randn(64, 1) * 3
    bce = torch.nn.BCELoss()
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)
    loss_real, loss_fake = bce_discriminator_loss(real, fake)
    assert loss_real.item() == pytest.approx(bce(torch.sigmoid(real), ones).item(), rel=1e-5)
    assert loss_fake.item() == pytest.approx(bce(torch.sigmoid(fake), zeros).item(), rel=1e-5)
    assert bce_generator_loss(fake).item() == pytest.approx(
        bce(torch.sigmoid(fake), ones).item(), rel=1e-5
    )
    smoothed, _ = bce_discriminator_loss(real, fake, real_target=0.9)
    assert smoothed.item() == pytest.approx(
        bce(torch.sigmoid(real), torch.full((64, 1), 0.9)).item(), rel=1e-5
    )


def test_stable_for_extreme_logits():
    loss_real, loss_fake = bce_discriminator_loss(torch.tensor([-200.0]), torch.tensor([200.0]))
    assert loss_real.item() == pytest.approx(200.0, rel=1e-6)
    assert loss_fake.item() == pytest.approx(200.0, rel=1e-6)
    # BCELoss on a sigmoid saturates there: sigmoid(200) rounds to 1 and log is clamped at -100
    saturated = torch.nn.BCELoss()(torch.sigmoid(torch.tensor([200.0])), torch.tensor([0.0]))
    assert saturated.item() == pytest.approx(100.0, rel=1e-6)
    assert bce_generator_loss(torch.tensor([-200.0])).item() == pytest.approx(200.0, rel=1e-6)
    # with smoothing 0.9: 0.9 * softplus(-x) + 0.1 * softplus(x)
    smooth_hi, _ = bce_discriminator_loss(torch.tensor([200.0]), torch.tensor([0.0]), 0.9)
    smooth_lo, _ = bce_discriminator_loss(torch.tensor([-200.0]), torch.tensor([0.0]), 0.9)
    assert smooth_hi.item() == pytest.approx(20.0, rel=1e-6)
    assert smooth_lo.item() == pytest.approx(180.0, rel=1e-6)
    x = torch.tensor([200.0, -200.0], requires_grad=True)
    (sum(bce_discriminator_loss(x, x, 0.9)) + bce_generator_loss(x)).backward()
    assert torch.isfinite(x.grad).all()


def test_shapes_b_and_b1_give_the_same_values():
    real, fake = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([1.0, 0.0, -0.5])
    for d_loss in (
        bce_discriminator_loss,
        lsgan_discriminator_loss,
        wasserstein_discriminator_loss,
        hinge_discriminator_loss,
    ):
        flat = d_loss(real, fake)
        column = d_loss(real[:, None], fake[:, None])
        for a, b in zip(flat, column, strict=True):
            assert a.dim() == 0 and b.dim() == 0
            assert a.item() == pytest.approx(b.item(), **TOL)
    for g_loss in (bce_generator_loss, minimax_generator_loss, lsgan_generator_loss):
        assert g_loss(fake).item() == pytest.approx(g_loss(fake[:, None]).item(), **TOL)


def test_minimax_generator_loss_by_hand_and_it_saturates():
    fake = torch.tensor([0.0, 2.0, -1.0])
    # log(1 - sigmoid(x)) = -log(1 + e^x)
    expected = -(math.log(2.0) + math.log(1 + math.exp(2.0)) + math.log(1 + math.exp(-1.0))) / 3
    assert minimax_generator_loss(fake).item() == pytest.approx(expected, **TOL)
    # when D rejects a fake confidently (logit -10) the minimax gradient is sigmoid(-10), tiny,
    # while the non-saturating loss keeps a gradient of magnitude 1 - sigmoid(-10)
    x = torch.tensor([-10.0], requires_grad=True)
    minimax_generator_loss(x).backward()
    assert x.grad.item() == pytest.approx(-1 / (1 + math.exp(10.0)), **TOL)
    y = torch.tensor([-10.0], requires_grad=True)
    bce_generator_loss(y).backward()
    assert y.grad.item() == pytest.approx(-1 / (1 + math.exp(-10.0)), **TOL)


def test_lsgan_by_hand():
    real = torch.tensor([0.5, 2.0, -1.0])
    fake = torch.tensor([0.5, -2.0])
    loss_real, loss_fake = lsgan_discriminator_loss(real, fake)
    assert loss_real.item() == pytest.approx(0.5 * (0.25 + 1.0 + 4.0) / 3, **TOL)
    assert loss_fake.item() == pytest.approx(0.5 * (0.25 + 4.0) / 2, **TOL)
    smoothed, _ = lsgan_discriminator_loss(real, fake, real_target=0.9)
    assert smoothed.item() == pytest.approx(0.5 * (0.16 + 1.21 + 3.61) / 3, **TOL)
    assert lsgan_generator_loss(fake).item() == pytest.approx(0.5 * (0.25 + 9.0) / 2, **TOL)


def test_wasserstein_by_hand():
    real = torch.tensor([1.0, -3.0, 0.5])
    fake = torch.tensor([2.0, 4.0])
    loss_real, loss_fake = wasserstein_discriminator_loss(real, fake)
    assert loss_real.item() == pytest.approx(0.5, **TOL)  # -(1 - 3 + 0.5) / 3
    assert loss_fake.item() == pytest.approx(3.0, **TOL)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(-3.0, **TOL)


def test_hinge_by_hand():
    real = torch.tensor([0.5, 2.0, -1.0])
    fake = torch.tensor([0.5, -2.0, -0.5])
    loss_real, loss_fake = hinge_discriminator_loss(real, fake)
    assert loss_real.item() == pytest.approx((0.5 + 0.0 + 2.0) / 3, **TOL)
    assert loss_fake.item() == pytest.approx((1.5 + 0.0 + 0.5) / 3, **TOL)
    assert hinge_generator_loss is wasserstein_generator_loss
    assert hinge_generator_loss(fake).item() == pytest.approx(2.0 / 3, **TOL)
