"""What a training loop hands the Monitor, checked when it is handed over."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


def check_scalar(key: str, value: Any) -> None:
    """A step value must be one number: catch a forgotten ``.mean()`` when it is logged, not
    at the end of the epoch (a tensor's size is known without a device sync)."""
    if value is None or isinstance(value, (float, int, np.number)) and not isinstance(value, bool):
        return
    if isinstance(value, torch.Tensor):
        if value.numel() == 1:
            return
        raise ValueError(
            f"Monitor.log_step: {key} must be one number, got a tensor of shape "
            f"{tuple(value.shape)} (reduce it first, e.g. with .mean())"
        )
    if isinstance(value, np.ndarray) and value.size == 1:
        return
    raise ValueError(
        f"Monitor.log_step: {key} must be a number or a one-element tensor, got "
        f"{type(value).__name__} {value!r:.60}"
    )


def finite(samples: Any) -> bool:
    x = samples if isinstance(samples, torch.Tensor) else torch.as_tensor(np.asarray(samples))
    return not x.is_floating_point() or bool(torch.isfinite(x).all())


def to_float(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().item())
    return float(value)
