"""ACGAN's class loss, InfoGAN's code loss and feature matching against hand values."""

import math

import pytest
import torch

from ganwatch.losses import class_loss, feature_matching_loss, infogan_loss

TOL = {"rel": 1e-6, "abs": 1e-7}

# cross-entropy of logits (1, 0) for class 0 and (0, 0) for class 1
CAT_CE = ((-1.0 + math.log(math.e + 1.0)) + math.log(2.0)) / 2
# 0.5 * ((0.5 - 0)^2 + (-1 - 0)^2) = 0.625 and 0.5 * ((2 - 1)^2 + (0 - 1)^2) = 1.0
CONT_NLL = (0.625 + 1.0) / 2


def _codes() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    cat_logits = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    cat_codes = torch.tensor([0, 1])
    cont_mean = torch.tensor([[0.5, -1.0], [2.0, 0.0]])
    cont_codes = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    return cat_logits, cat_codes, cont_mean, cont_codes


def test_class_loss_by_hand():
    logits = torch.tensor([[0.0, 0.0, 0.0], [2.0, 0.0, -1.0]])
    labels = torch.tensor([1, 0])
    expected = (math.log(3.0) + (-2.0 + math.log(math.exp(2.0) + 1.0 + math.exp(-1.0)))) / 2
    loss = class_loss(logits, labels)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(expected, **TOL)


def test_infogan_loss_by_hand():
    cat_logits, cat_codes, cont_mean, cont_codes = _codes()
    full = infogan_loss(cat_logits, cat_codes, cont_mean, cont_codes)
    assert full.dim() == 0
    assert full.item() == pytest.approx(CAT_CE + CONT_NLL, **TOL)
    weighted = infogan_loss(cat_logits, cat_codes, cont_mean, cont_codes, cont_weight=2.0)
    assert weighted.item() == pytest.approx(CAT_CE + 2.0 * CONT_NLL, **TOL)


def test_infogan_loss_with_parts_absent():
    cat_logits, cat_codes, cont_mean, cont_codes = _codes()
    assert infogan_loss(cat_logits, cat_codes, None, None).item() == pytest.approx(CAT_CE, **TOL)
    empty = torch.zeros(2, 0)
    assert infogan_loss(cat_logits, cat_codes, empty, empty).item() == pytest.approx(CAT_CE, **TOL)
    assert infogan_loss(None, None, cont_mean, cont_codes).item() == pytest.approx(CONT_NLL, **TOL)
    nothing = infogan_loss(None, None, None, None)
    assert nothing.dim() == 0 and nothing.item() == 0.0


def test_infogan_loss_gradient_reaches_the_q_head():
    cat_logits, cat_codes, cont_mean, cont_codes = _codes()
    cont_mean.requires_grad_(True)
    infogan_loss(None, None, cont_mean, cont_codes).backward()
    # d/dmean of mean_b 0.5 * sum (mean - c)^2 = (mean - c) / B
    torch.testing.assert_close(
        cont_mean.grad, torch.tensor([[0.25, -0.5], [0.5, -0.5]]), rtol=1e-6, atol=1e-7
    )


def test_feature_matching_by_hand_and_gradient_only_to_fake():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    fake = torch.tensor([[0.0, 1.0], [2.0, 1.0]], requires_grad=True)
    # batch means (2, 3) and (1, 1): squared distance 1 + 4
    loss = feature_matching_loss(real, fake)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(5.0, **TOL)
    loss.backward()
    assert real.grad is None
    # d/dfake_b = -2 (mean real - mean fake) / B = -(1, 2) for each row
    torch.testing.assert_close(
        fake.grad, torch.tensor([[-1.0, -2.0], [-1.0, -2.0]]), rtol=1e-6, atol=1e-7
    )


def test_feature_matching_on_feature_maps():
    real = torch.zeros(2, 2, 1, 1)
    fake = torch.zeros(2, 2, 1, 1)
    fake[0, 0] = 2.0  # batch mean of channel 0 is 1, channel 1 stays 0
    fake[1, 1] = -4.0  # batch mean of channel 1 is -2
    assert feature_matching_loss(real, fake).item() == pytest.approx(1.0 + 4.0, **TOL)
