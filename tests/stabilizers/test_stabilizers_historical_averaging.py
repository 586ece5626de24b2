"""ParameterAverage: the running mean of all parameter values seen, and the squared distance."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from ganwatch.stabilizers.historical_averaging import ParameterAverage


def _set(module: nn.Linear, weight: list[list[float]], bias: list[float]) -> None:
    with torch.no_grad():
        module.weight.copy_(torch.tensor(weight))
        module.bias.copy_(torch.tensor(bias))


# Three successive parameter values of a Linear(2, 1): the initial one and two updates.
WEIGHTS = [[[1.0, -2.0]], [[3.0, 0.0]], [[-1.0, 5.0]]]
BIASES = [[0.5], [1.5], [-4.0]]


def test_initial_mean_is_a_detached_copy() -> None:
    layer = nn.Linear(2, 1)
    _set(layer, WEIGHTS[0], BIASES[0])
    avg = ParameterAverage(layer)
    assert avg.count == 1
    torch.testing.assert_close(avg.mean[0], torch.tensor(WEIGHTS[0]), rtol=0, atol=0)
    assert not avg.mean[0].requires_grad
    with torch.no_grad():
        layer.weight.add_(10.0)
    torch.testing.assert_close(avg.mean[0], torch.tensor(WEIGHTS[0]), rtol=0, atol=0)


def test_mean_is_arithmetic_mean_of_all_values_seen() -> None:
    layer = nn.Linear(2, 1)
    _set(layer, WEIGHTS[0], BIASES[0])
    avg = ParameterAverage(layer)
    for step in (1, 2):
        _set(layer, WEIGHTS[step], BIASES[step])
        avg.update(layer)
        assert avg.count == step + 1
        n = step + 1
        w_mean = [
            [sum(WEIGHTS[s][0][c] for s in range(n)) / n for c in range(2)]
        ]  # by hand: (1+3)/2, (1+3-1)/3 ...
        b_mean = [sum(BIASES[s][0] for s in range(n)) / n]
        torch.testing.assert_close(avg.mean[0], torch.tensor(w_mean), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(avg.mean[1], torch.tensor(b_mean), rtol=1e-6, atol=1e-6)
    # Spelled out for the last step: weight (1+3-1)/3, (-2+0+5)/3; bias (0.5+1.5-4)/3.
    torch.testing.assert_close(avg.mean[0], torch.tensor([[1.0, 1.0]]), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(avg.mean[1], torch.tensor([-2.0 / 3.0]), rtol=1e-6, atol=1e-6)


def test_penalty_is_squared_distance_with_gradient_twice_the_difference() -> None:
    layer = nn.Linear(2, 1)
    _set(layer, WEIGHTS[0], BIASES[0])
    avg = ParameterAverage(layer)
    _set(layer, WEIGHTS[1], BIASES[1])
    avg.update(layer)  # mean now weight [[2, -1]], bias [1.0]
    _set(layer, [[0.0, 2.0]], [3.0])
    penalty = avg.penalty(layer)
    # (0-2)^2 + (2+1)^2 + (3-1)^2 = 4 + 9 + 4
    assert penalty.item() == pytest.approx(17.0, rel=1e-6, abs=1e-6)
    penalty.backward()
    torch.testing.assert_close(layer.weight.grad, torch.tensor([[-4.0, 6.0]]), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(layer.bias.grad, torch.tensor([4.0]), rtol=1e-6, atol=1e-6)


def test_penalty_is_zero_at_the_mean() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    avg = ParameterAverage(net)
    assert avg.penalty(net).item() == pytest.approx(0.0, rel=0, abs=1e-12)


def test_penalty_on_a_multi_layer_module_matches_hand_sum() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    start = [p.detach().clone() for p in net.parameters()]
    avg = ParameterAverage(net)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(2.0).add_(0.25)
    avg.update(net)
    with torch.no_grad():
        for p in net.parameters():
            p.sub_(1.0)
    means = [(s + (2 * s + 0.25)) / 2 for s in start]
    current = [(2 * s + 0.25) - 1.0 for s in start]
    expected = sum(((c - m) ** 2).sum().item() for c, m in zip(current, means, strict=True))
    assert avg.penalty(net).item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_update_does_not_touch_the_module_or_track_gradients() -> None:
    layer = nn.Linear(2, 1)
    _set(layer, WEIGHTS[0], BIASES[0])
    avg = ParameterAverage(layer)
    _set(layer, WEIGHTS[1], BIASES[1])
    avg.update(layer)
    torch.testing.assert_close(layer.weight.detach(), torch.tensor(WEIGHTS[1]), rtol=0, atol=0)
    assert all(not m.requires_grad for m in avg.mean)


def test_state_dict_round_trip_continues_the_same_mean() -> None:
    layer = nn.Linear(2, 1)
    _set(layer, WEIGHTS[0], BIASES[0])
    avg = ParameterAverage(layer)
    _set(layer, WEIGHTS[1], BIASES[1])
    avg.update(layer)

    buffer = io.BytesIO()
    torch.save(avg.state_dict(), buffer)  # as the checkpoint does
    buffer.seek(0)
    fresh_layer = nn.Linear(2, 1)  # other random weights: its own mean must be replaced
    restored = ParameterAverage(fresh_layer)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.count == 2
    for got, want in zip(restored.mean, avg.mean, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)

    # The restored average carries on exactly like the original: count 3, mean of three.
    _set(layer, WEIGHTS[2], BIASES[2])
    avg.update(layer)
    restored.update(layer)
    assert restored.count == 3
    torch.testing.assert_close(restored.mean[0], torch.tensor([[1.0, 1.0]]), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(restored.mean[1], avg.mean[1], rtol=0, atol=0)


def test_load_state_dict_with_wrong_number_of_tensors_raises() -> None:
    avg = ParameterAverage(nn.Linear(2, 1))
    with pytest.raises(ValueError):
        avg.load_state_dict({"mean": [torch.zeros(1, 2)], "count": 2})
