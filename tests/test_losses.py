"""BCE losses against hand-computed values (two-sided tolerances) and the article's BCELoss."""

import math

import pytest
import torch

from ganwatch.losses import bce_discriminator_loss, bce_generator_loss


def test_hand_computed_values():
    real = torch.tensor([0.0, 2.0])
    fake = torch.tensor([-1.0, 3.0])
    loss_real, loss_fake = bce_discriminator_loss(real, fake)
    # -log(sigmoid(x)) = log(1 + e^-x); -log(1 - sigmoid(x)) = log(1 + e^x)
    expected_real = (math.log(2.0) + math.log(1 + math.exp(-2.0))) / 2
    expected_fake = (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(3.0))) / 2
    assert loss_real.item() == pytest.approx(expected_real, rel=1e-6, abs=1e-7)
    assert loss_fake.item() == pytest.approx(expected_fake, rel=1e-6, abs=1e-7)
    assert bce_generator_loss(fake).item() == pytest.approx(
        (math.log(1 + math.exp(1.0)) + math.log(1 + math.exp(-3.0))) / 2, rel=1e-6, abs=1e-7
    )


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


def test_stable_for_extreme_logits():
    loss_real, loss_fake = bce_discriminator_loss(torch.tensor([-200.0]), torch.tensor([200.0]))
    assert loss_real.item() == pytest.approx(200.0, rel=1e-6)
    assert loss_fake.item() == pytest.approx(200.0, rel=1e-6)
