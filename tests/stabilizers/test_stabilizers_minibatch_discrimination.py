"""MinibatchDiscrimination: batch closeness features, and grafting the layer onto a D."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganwatch.models.mlp import MLPDiscriminator
from ganwatch.stabilizers.minibatch_discrimination import (
    KERNEL_DIM,
    MinibatchDiscrimination,
    add_minibatch_discrimination,
)


def test_output_shape_and_features_passed_through() -> None:
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=6, kernels=5)
    assert layer.projection.shape == (6, 5 * KERNEL_DIM)
    x = torch.randn(7, 6)
    out = layer(x)
    assert out.shape == (7, 6 + 5)
    torch.testing.assert_close(out[:, :6], x, rtol=0, atol=0)


def test_closeness_matches_hand_computation() -> None:
    # Projection: identity on 2 features -> 1 kernel of dimension 2, so M_i is the sample itself.
    layer = MinibatchDiscrimination(in_features=2, kernels=1, kernel_dim=2)
    with torch.no_grad():
        layer.projection.copy_(torch.eye(2))
    x = torch.tensor([[0.0, 0.0], [1.0, 0.5], [-0.5, 2.0]])
    out = layer(x)
    # L1 distances: d01 = 1 + 0.5 = 1.5, d02 = 0.5 + 2 = 2.5, d12 = 1.5 + 1.5 = 3.0
    expected = torch.tensor(
        [
            math.exp(-1.5) + math.exp(-2.5),
            math.exp(-1.5) + math.exp(-3.0),
            math.exp(-2.5) + math.exp(-3.0),
        ]
    )
    torch.testing.assert_close(out[:, 2], expected, rtol=1e-6, atol=1e-7)


def test_two_kernels_use_their_own_rows() -> None:
    # Kernel 0 sees feature 0 (dims 0,1 = 2*x0, 0), kernel 1 sees feature 1 (dims = x1, x1).
    layer = MinibatchDiscrimination(in_features=2, kernels=2, kernel_dim=2)
    with torch.no_grad():
        layer.projection.copy_(torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
    x = torch.tensor([[0.0, 0.0], [0.5, 1.0], [1.0, -1.0]])
    out = layer(x)
    # kernel 0 distances: |2*x0_i - 2*x0_j| -> d01 = 1, d02 = 2, d12 = 1
    # kernel 1 distances: 2*|x1_i - x1_j|   -> d01 = 2, d02 = 2, d12 = 4
    e = math.exp
    k0 = [e(-1) + e(-2), e(-1) + e(-1), e(-2) + e(-1)]
    k1 = [e(-2) + e(-2), e(-2) + e(-4), e(-2) + e(-4)]
    torch.testing.assert_close(out[:, 2], torch.tensor(k0), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(out[:, 3], torch.tensor(k1), rtol=1e-6, atol=1e-7)


def test_identical_samples_give_closeness_batch_minus_one() -> None:
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=4, kernels=3)
    x = torch.randn(1, 4).repeat(5, 1)
    out = layer(x)
    torch.testing.assert_close(out[:, 4:], torch.full((5, 3), 4.0), rtol=1e-6, atol=1e-6)


def test_single_sample_has_zero_closeness() -> None:
    layer = MinibatchDiscrimination(in_features=4, kernels=3)
    out = layer(torch.randn(1, 4))
    torch.testing.assert_close(out[:, 4:], torch.zeros(1, 3), rtol=0, atol=1e-7)


def test_far_apart_samples_have_almost_zero_closeness() -> None:
    layer = MinibatchDiscrimination(in_features=1, kernels=1, kernel_dim=1)
    with torch.no_grad():
        layer.projection.fill_(1.0)
    out = layer(torch.tensor([[0.0], [100.0], [-100.0]]))
    torch.testing.assert_close(out[:, 1], torch.zeros(3), rtol=0, atol=1e-30)


def test_gradient_reaches_the_projection() -> None:
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=3, kernels=2)
    layer(torch.randn(4, 3)).sum().backward()
    assert layer.projection.grad is not None
    assert layer.projection.grad.abs().sum().item() > 0


def test_add_to_mlp_discriminator() -> None:
    torch.manual_seed(0)
    D = MLPDiscriminator(in_dim=2, hidden=16)
    before = {id(p) for p in D.parameters()}
    add_minibatch_discrimination(D, kernels=4)
    layer, head = D.classifier[0], D.classifier[1]
    assert isinstance(layer, MinibatchDiscrimination)
    assert isinstance(head, nn.Linear)
    assert (head.in_features, head.out_features) == (16 + 4, 1)
    params = {id(p) for p in D.parameters()}
    assert id(layer.projection) in params
    assert id(head.weight) in params and id(head.bias) in params
    assert len(params - before) >= 3

    x = torch.randn(6, 2)
    out = D(x)
    assert out.shape == (6, 1)
    # The output is the new head applied to features + closeness.
    feats = D.features(x)
    torch.testing.assert_close(out, head(layer(feats)), rtol=1e-6, atol=1e-6)


def test_added_layer_makes_the_output_depend_on_the_rest_of_the_batch() -> None:
    torch.manual_seed(0)
    D = MLPDiscriminator(in_dim=2, hidden=16)
    add_minibatch_discrimination(D, kernels=4)
    with torch.no_grad():
        D.classifier[0].projection.mul_(10.0)  # make closeness clearly batch-dependent
    x = torch.randn(3, 2)
    alone = D(x[:1])
    together = D(x)
    assert not torch.allclose(alone, together[:1], rtol=1e-4, atol=1e-6)


class NoClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(2, 1)


class ConvClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.classifier = nn.Conv2d(1, 1, 3)


@pytest.mark.parametrize("module_type", [NoClassifier, ConvClassifier])
def test_refuses_a_module_without_a_linear_classifier(module_type: type[nn.Module]) -> None:
    D = module_type()
    with pytest.raises(ValueError) as info:
        add_minibatch_discrimination(D, kernels=4)
    message = str(info.value)
    assert "minibatch-discrimination" in message
    assert "classifier" in message
    assert module_type.__name__ in message


def _plain_closeness(m: torch.Tensor) -> torch.Tensor:
    """The formula as written in the paper, by broadcasting (the whole B x B x K x D tensor)."""
    return torch.exp(-(m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)).sum(1) - 1


@pytest.mark.parametrize("chunk_elements", [1 << 24, 200, 37])  # one block; kernels; rows
def test_chunked_closeness_matches_the_formula_to_the_second_derivative(
    monkeypatch, chunk_elements
) -> None:
    from ganwatch.stabilizers import minibatch_discrimination as mbd

    monkeypatch.setattr(mbd, "CHUNK_ELEMENTS", chunk_elements)
    m = torch.randn(9, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    m.requires_grad_(True)
    weights = torch.randn(9, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    chunked, plain = mbd.batch_closeness(m), _plain_closeness(m)
    torch.testing.assert_close(chunked, plain)
    # first derivative, as a plain backward takes it (through cdist's backward)
    (g_fast,) = torch.autograd.grad((mbd.batch_closeness(m) * weights).sum(), m)
    (g_ref,) = torch.autograd.grad((_plain_closeness(m) * weights).sum(), m)
    torch.testing.assert_close(g_fast, g_ref)
    # first derivative, kept differentiable as WGAN-GP keeps D's input gradient
    (g_chunked,) = torch.autograd.grad((chunked * weights).sum(), m, create_graph=True)
    (g_plain,) = torch.autograd.grad((plain * weights).sum(), m, create_graph=True)
    torch.testing.assert_close(g_chunked, g_plain)
    # second derivative: a penalty on that gradient, differentiated again
    (h_chunked,) = torch.autograd.grad((g_chunked**2).sum(), m)
    (h_plain,) = torch.autograd.grad((g_plain**2).sum(), m)
    torch.testing.assert_close(h_chunked, h_plain)
    assert torch.autograd.gradcheck(mbd.batch_closeness, (m,))
    assert torch.autograd.gradgradcheck(mbd.batch_closeness, (m,))


def test_wgan_gp_trains_through_the_layer() -> None:
    """A gradient penalty through D with the layer reaches the layer's projection."""
    torch.manual_seed(0)
    d = MLPDiscriminator(in_dim=2, hidden=16)
    add_minibatch_discrimination(d, kernels=4)
    x = torch.randn(16, 2, requires_grad=True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
    penalty.backward()
    projection = d.classifier[0].projection
    assert projection.grad is not None and projection.grad.abs().sum() > 0


def test_far_pairs_count_as_exactly_zero_not_as_subnormal_floats() -> None:
    """exp(-95) is a subnormal float32, on which a CPU computes many times slower; the layer
    sets such terms (all below 2^-60) to 0, in its value and in its gradient's weights, and
    stays exact for near pairs."""
    from ganwatch.stabilizers.minibatch_discrimination import batch_closeness

    # one kernel of 1 dim: samples 0 and 1 are 95 apart, 1 and 2 are 0.5 apart
    m = torch.tensor([[[0.0]], [[95.0]], [[95.5]]], requires_grad=True)
    closeness = batch_closeness(m)
    assert closeness[0, 0].item() == 0.0  # exp(-95) + exp(-95.5), both subnormal, are 0
    torch.testing.assert_close(closeness[1:, 0], torch.full((2,), math.exp(-0.5)))
    closeness.sum().backward()
    assert m.grad is not None
    assert m.grad[0, 0, 0].item() == 0.0
    # d/dm_1 of 2 exp(-|m_1 - m_2|) is 2 exp(-0.5) (m_1 < m_2: moving up brings them
    # closer), and the opposite for m_2
    torch.testing.assert_close(m.grad[1:, 0, 0], 2 * math.exp(-0.5) * torch.tensor([1.0, -1.0]))
    tiny = torch.finfo(torch.float32).tiny
    assert not ((closeness != 0) & (closeness.abs() < tiny)).any()


def test_a_tiny_upstream_gradient_gives_the_formulas_gradient_at_its_scale() -> None:
    """A discriminator sure of its batch sends back gradients near 1e-36; the layer scales
    them by a power of two before its pairwise products and back after: the result is the
    float64 formula's, at that scale."""
    from ganwatch.stabilizers.minibatch_discrimination import batch_closeness

    generator = torch.Generator().manual_seed(0)
    m = torch.randn(12, 3, 4, generator=generator)
    weights = torch.randn(12, 3, generator=generator) * 2.0**-120  # ~1e-36
    fast = m.clone().requires_grad_(True)
    (batch_closeness(fast) * weights).sum().backward()
    exact = m.double().requires_grad_(True)
    (_plain_closeness(exact) * weights.double()).sum().backward()
    assert fast.grad is not None and exact.grad is not None
    assert fast.grad.abs().max() > 0
    at_unit_scale = fast.grad.double() * 2.0**120, exact.grad * 2.0**120
    torch.testing.assert_close(*at_unit_scale, rtol=1e-4, atol=1e-6)


def test_pairwise_products_in_the_backward_are_zero_or_normal_floats() -> None:
    """What keeps subnormals (slow on a CPU) out of the backward: exp(-L1) and the scaled
    gradient are 0 or at least 2^-60, so their products are 0 or at least 2^-120, and the
    scaling by a power of two is exact."""
    from ganwatch.stabilizers.minibatch_discrimination import NEGLIGIBLE, _near, _normalised

    tiny_grads = torch.tensor([3e-38, -1e-45, 0.0, 2e-36, -7e-37])
    scaled, scale = _normalised(tiny_grads)
    assert scale.item() == 2.0**-118  # the power of two just above 2e-36
    torch.testing.assert_close(scaled * scale, tiny_grads, rtol=0, atol=0)  # nothing lost
    grad = torch.tensor([[3e-38, -1e-45, 0.0, 0.75], [5e-37, 1e-20, -0.25, 1e-19]])
    scaled, scale = _normalised(grad)
    assert scale.item() == 1.0 and scaled.abs().max() < 1
    kept = grad.abs() >= NEGLIGIBLE
    assert kept.sum() == 2 and (scaled[kept] == grad[kept]).all() and (scaled[~kept] == 0).all()
    near = _near(-torch.tensor([0.0, 1.0, 41.0, 42.0, 95.0]))
    torch.testing.assert_close(near[:3], torch.exp(-torch.tensor([0.0, 1.0, 41.0])))
    assert (near[3:] == 0).all()  # exp(-42) < 2^-60
    products = (near.view(-1, 1, 1) * scaled.unsqueeze(0)).abs()
    tiny = torch.finfo(torch.float32).tiny
    assert ((products == 0) | (products >= tiny)).all()
    zero_scaled, zero_scale = _normalised(torch.zeros(3))
    assert zero_scale.item() == 1.0 and (zero_scaled == 0).all()


def test_bf16_kernel_rows_get_a_float32_closeness_and_a_bf16_gradient() -> None:
    """Under bf16 autocast the closeness of a spread batch (small terms summed, minus 1)
    would round away and cdist has no CPU bf16 kernel: the layer works in float32."""
    from ganwatch.stabilizers.minibatch_discrimination import batch_closeness

    generator = torch.Generator().manual_seed(0)
    m = (torch.randn(16, 3, 4, generator=generator) * 2).to(torch.bfloat16).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        closeness = batch_closeness(m)
    assert closeness.dtype == torch.float32
    exact = _plain_closeness(m.detach().double())
    torch.testing.assert_close(closeness.double(), exact, rtol=1e-5, atol=1e-7)
    assert (exact < 0.05).any()  # small closeness values, which bf16 would round to steps
    closeness.sum().backward()
    assert m.grad is not None and m.grad.dtype == torch.bfloat16 and m.grad.abs().sum() > 0


def test_an_empty_batch_has_an_empty_closeness() -> None:
    from ganwatch.stabilizers.minibatch_discrimination import batch_closeness

    m = torch.zeros(0, 3, 4, requires_grad=True)
    closeness = batch_closeness(m)
    assert closeness.shape == (0, 3)
    closeness.sum().backward()
    assert m.grad is not None and m.grad.shape == (0, 3, 4)
