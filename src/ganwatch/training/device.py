"""Where and in which precision training runs."""

from __future__ import annotations

import contextlib

import torch

from ganwatch.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """'auto' means CUDA when there is a GPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu")
    return torch.device(name)


def configure_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Set TF32 switches and return the autocast context the forward passes run under."""
    if precision == "auto":
        precision = "tf32" if device.type == "cuda" else "fp32"
    if device.type == "cuda":
        tf32 = precision in ("tf32", "bf16")
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
