"""look_ahead(): a discriminator copy k optimiser steps ahead, the original left untouched."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from torch import nn

from ganwatch.stabilizers.spectral_norm import apply_spectral_norm
from ganwatch.stabilizers.unrolled import look_ahead

X = torch.linspace(-1, 1, 16).view(8, 2)
Y = torch.tensor([[1.0], [0.0], [1.0], [0.0], [1.0], [1.0], [0.0], [0.0]])


def _discriminator(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))


def _step(module: nn.Module, opt: torch.optim.Optimizer) -> None:
    opt.zero_grad()
    nn.functional.binary_cross_entropy_with_logits(module(X), Y).backward()
    opt.step()


def _counting(calls: list) -> Callable[[nn.Module, torch.optim.Optimizer], None]:
    def update(module: nn.Module, opt: torch.optim.Optimizer) -> None:
        calls.append((module, opt))
        _step(module, opt)

    return update


def _snapshot(module: nn.Module, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    return copy.deepcopy(module.state_dict()), copy.deepcopy(opt.state_dict())


def _assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        elif isinstance(a[key], dict):
            _assert_same_state(a[key], b[key])
        else:
            assert a[key] == b[key], key


def _adam_with_history(D: nn.Module, steps: int = 2, lr: float = 0.05) -> torch.optim.Adam:
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        _step(D, opt)
    return opt


@pytest.mark.parametrize("k", [1, 3])
def test_original_and_its_optimiser_are_bitwise_unchanged(k: int) -> None:
    D = _discriminator()
    opt = _adam_with_history(D)
    params_before, opt_before = _snapshot(D, opt)
    calls: list = []
    ahead = look_ahead(D, opt, k, _counting(calls))
    params_after, opt_after = _snapshot(D, opt)
    _assert_same_state(params_before, params_after)
    _assert_same_state(opt_before, opt_after)
    assert len(calls) == k
    for module, copy_opt in calls:
        assert module is ahead and module is not D
        assert copy_opt is not opt
    assert all(p.requires_grad for p in D.parameters())


def test_copy_differs_after_steps_and_is_frozen() -> None:
    D = _discriminator()
    opt = _adam_with_history(D)
    ahead = look_ahead(D, opt, 2, _step)
    assert all(not p.requires_grad for p in ahead.parameters())
    diffs = [
        (a - b).abs().max().item() for a, b in zip(ahead.parameters(), D.parameters(), strict=True)
    ]
    assert max(diffs) > 1e-4


def test_zero_steps_gives_an_equal_frozen_copy() -> None:
    D = _discriminator()
    opt = _adam_with_history(D)
    calls: list = []
    ahead = look_ahead(D, opt, 0, _counting(calls))
    assert calls == []
    assert ahead is not D
    for a, b in zip(ahead.parameters(), D.parameters(), strict=True):
        assert a.data_ptr() != b.data_ptr()
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)
    assert all(not p.requires_grad for p in ahead.parameters())


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda params: torch.optim.Adam(params, lr=0.05, betas=(0.5, 0.999)),
        lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    ],
    ids=["adam", "sgd-momentum"],
)
def test_copy_matches_k_real_steps_of_the_original(make_opt: Callable) -> None:
    """The copy carries on the optimiser's state (moments, step count), not a fresh one."""
    D = _discriminator(3)
    opt = make_opt(D.parameters())
    for _ in range(3):
        _step(D, opt)
    ahead = look_ahead(D, opt, 3, _step)
    for _ in range(3):
        _step(D, opt)
    for a, b in zip(ahead.parameters(), D.parameters(), strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=1e-6, atol=1e-7)


def test_a_fresh_optimiser_would_give_another_copy() -> None:
    """Guards the previous test: with Adam's history the result differs from a fresh Adam."""
    D = _discriminator(3)
    opt = _adam_with_history(D, steps=3)
    ahead = look_ahead(D, opt, 1, _step)
    fresh = copy.deepcopy(D)
    _step(fresh, torch.optim.Adam(fresh.parameters(), lr=0.05, betas=(0.5, 0.999)))
    diffs = [
        (a - b).abs().max().item()
        for a, b in zip(ahead.parameters(), fresh.parameters(), strict=True)
    ]
    assert max(diffs) > 1e-5


def test_changed_learning_rate_of_the_group_is_kept() -> None:
    D = _discriminator(4)
    opt = _adam_with_history(D, steps=1, lr=0.05)
    for group in opt.param_groups:
        group["lr"] = 0.001  # e.g. a scheduler moved it away from the default
    ahead = look_ahead(D, opt, 1, _step)
    _step(D, opt)
    for a, b in zip(ahead.parameters(), D.parameters(), strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=1e-6, atol=1e-7)


def test_spectral_norm_discriminator_buffers_untouched() -> None:
    D = _discriminator(5)
    apply_spectral_norm(D)
    opt = _adam_with_history(D)
    before = _snapshot(D, opt)
    ahead = look_ahead(D, opt, 2, _step)
    after = _snapshot(D, opt)
    _assert_same_state(before[0], after[0])  # includes the power-iteration vectors u, v
    _assert_same_state(before[1], after[1])
    assert ahead(X).shape == (8, 1)
