"""Checkpoints that survive a crash: written atomically, holding everything a resume needs.

A checkpoint holds both models, both optimisers, every random-number state the loop draws from,
and the counters, so that resuming reproduces an uninterrupted run exactly on the CPU.
torch is imported where it is used, so that finding a checkpoint (the sweep planner) does not
load it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ganwatch.atomic import write_atomically

if TYPE_CHECKING:
    import torch

CHECKPOINT_NAME = "checkpoint.pt"


def checkpoint_path(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints" / CHECKPOINT_NAME


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` with torch.save to a temp file beside ``path``, then rename it into place.

    The rename is atomic, so a crash mid-write leaves the previous checkpoint intact.
    """
    import torch

    write_atomically(path, lambda handle: torch.save(state, handle))


def load_checkpoint(path: Path | bytes, device: torch.device) -> dict[str, Any]:
    """Read a checkpoint (a file, or its bytes as sent to another rank) with
    ``weights_only=True``: tensors and plain values only, so that a checkpoint from a store
    someone else gave you cannot run code when it is loaded."""
    import io
    import pickle

    import torch

    if isinstance(path, bytes):
        source: Any = io.BytesIO(path)
        path = Path("<checkpoint sent by rank 0>")
    else:
        path = source = Path(path)
        if not path.exists():
            raise FileNotFoundError(
                f"no checkpoint at {path}: the run stopped before its first one"
            )
    try:
        return torch.load(source, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path}: this checkpoint holds more than tensors and plain values (an older "
            "ganwatch wrote it, or it is not ganwatch's), so it is not loaded: loading it "
            "could run code. Start the run again with 'ganwatch train'."
        ) from exc


def capture_rng(generator: torch.Generator) -> dict[str, Any]:
    """Every RNG state the training loop may touch."""
    import torch

    state = {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _numpy_state() -> tuple:
    """NumPy's global RNG state with its key array as a list, which a weights-only load reads."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return name, keys.tolist(), int(pos), int(has_gauss), float(cached)


def restore_rng(state: dict[str, Any], generator: torch.Generator) -> None:
    import torch

    generator.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch"].cpu())
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
