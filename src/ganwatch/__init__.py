"""ganwatch: train GANs and catch their failure modes while they happen."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Monitor", "__version__"]


def __getattr__(name: str) -> Any:
    """``ganwatch.Monitor`` without importing torch for every ``import ganwatch`` (the CLI's
    ``--help`` and ``--version`` stay fast)."""
    if name == "Monitor":
        from ganwatch.monitor import Monitor

        return Monitor
    raise AttributeError(f"module 'ganwatch' has no attribute {name!r}")
