"""GeneratorAverage: a frozen copy following the generator with a warmed-up decay."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from ganwatch.stabilizers.ema import GeneratorAverage


def _set(layer: nn.Linear, weight: list[list[float]], bias: list[float]) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))


def _generator() -> nn.Linear:
    g = nn.Linear(2, 1)
    _set(g, [[1.0, -1.0]], [0.0])
    return g


def test_copy_is_frozen_in_eval_mode_and_separate() -> None:
    g = _generator().train()
    ema = GeneratorAverage(g, 0.999)
    assert ema.updates == 0
    assert ema.model is not g
    assert not ema.model.training
    assert g.training  # the raw generator's mode is left alone
    assert all(not p.requires_grad for p in ema.model.parameters())
    assert all(p.requires_grad for p in g.parameters())
    for a, b in zip(ema.model.parameters(), g.parameters(), strict=True):
        assert a.data_ptr() != b.data_ptr()
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)


def test_first_update_uses_warm_up_decay() -> None:
    g = _generator()
    ema = GeneratorAverage(g, 0.999)
    _set(g, [[3.0, 5.0]], [2.0])
    ema.update(g)
    d = min(0.999, (1 + 1) / (10 + 1))  # 2/11
    w = [[d * 1.0 + (1 - d) * 3.0, d * -1.0 + (1 - d) * 5.0]]
    b = [d * 0.0 + (1 - d) * 2.0]
    torch.testing.assert_close(ema.model.weight, torch.tensor(w), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ema.model.bias, torch.tensor(b), rtol=1e-6, atol=1e-6)
    assert ema.updates == 1
    # The raw generator is not modified.
    torch.testing.assert_close(g.weight.detach(), torch.tensor([[3.0, 5.0]]), rtol=0, atol=0)
    torch.testing.assert_close(g.bias.detach(), torch.tensor([2.0]), rtol=0, atol=0)


def test_second_update_uses_next_warm_up_decay() -> None:
    g = _generator()
    ema = GeneratorAverage(g, 0.999)
    _set(g, [[3.0, 5.0]], [2.0])
    ema.update(g)
    _set(g, [[-1.0, 0.0]], [4.0])
    ema.update(g)
    d1, d2 = 2 / 11, 3 / 12
    w0 = d2 * (d1 * 1.0 + (1 - d1) * 3.0) + (1 - d2) * -1.0
    w1 = d2 * (d1 * -1.0 + (1 - d1) * 5.0) + (1 - d2) * 0.0
    b = d2 * ((1 - d1) * 2.0) + (1 - d2) * 4.0
    torch.testing.assert_close(ema.model.weight, torch.tensor([[w0, w1]]), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ema.model.bias, torch.tensor([b]), rtol=1e-6, atol=1e-6)


def test_small_decay_wins_over_warm_up() -> None:
    g = _generator()
    ema = GeneratorAverage(g, 0.1)  # min(0.1, 2/11) = 0.1
    _set(g, [[3.0, 5.0]], [2.0])
    ema.update(g)
    expected = [[0.1 * 1.0 + 0.9 * 3.0, 0.1 * -1.0 + 0.9 * 5.0]]
    torch.testing.assert_close(ema.model.weight, torch.tensor(expected), rtol=1e-6, atol=1e-6)


def test_late_updates_use_the_configured_decay() -> None:
    g = _generator()
    ema = GeneratorAverage(g, 0.9)
    ema.updates = 1000  # warm-up (1001/1010 ~ 0.991) is past 0.9
    _set(g, [[11.0, -1.0]], [10.0])
    ema.update(g)
    torch.testing.assert_close(
        ema.model.weight, torch.tensor([[0.9 * 1.0 + 0.1 * 11.0, -1.0]]), rtol=1e-6, atol=1e-6
    )
    torch.testing.assert_close(ema.model.bias, torch.tensor([1.0]), rtol=1e-6, atol=1e-6)


def test_buffers_are_copied_not_averaged() -> None:
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = GeneratorAverage(g, 0.999)
    g.train()
    g(torch.randn(16, 3) * 3 + 2)  # moves the running statistics
    ema.update(g)
    torch.testing.assert_close(ema.model[1].running_mean, g[1].running_mean, rtol=0, atol=0)
    torch.testing.assert_close(ema.model[1].running_var, g[1].running_var, rtol=0, atol=0)
    assert ema.model[1].num_batches_tracked.item() == 1


def test_update_builds_no_graph() -> None:
    g = _generator()
    ema = GeneratorAverage(g, 0.99)
    ema.update(g)
    assert all(p.grad_fn is None and not p.requires_grad for p in ema.model.parameters())


def test_state_dict_round_trip() -> None:
    g = _generator()
    ema = GeneratorAverage(g, 0.99)
    _set(g, [[3.0, 5.0]], [2.0])
    ema.update(g)
    ema.update(g)

    buffer = io.BytesIO()
    torch.save(ema.state_dict(), buffer)
    buffer.seek(0)
    other = nn.Linear(2, 1)  # different random weights
    restored = GeneratorAverage(other, 0.99)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.updates == 2
    for a, b in zip(restored.model.parameters(), ema.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)

    # Both carry on with the same (third-step) decay.
    _set(g, [[0.0, 0.0]], [0.0])
    ema.update(g)
    restored.update(g)
    for a, b in zip(restored.model.parameters(), ema.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    d3 = min(0.99, 4 / 13)
    assert ema.model.bias.item() == pytest.approx(
        d3 * (3 / 12 * (9 / 11 * 2.0) + 9 / 12 * 2.0), rel=1e-6, abs=1e-6
    )
