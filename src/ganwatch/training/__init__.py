"""Training: the loop, one step, the training state, checkpoints and previews.

``train(config, store)`` starts a run and trains it to the end; ``resume(store, run)`` continues
one from its checkpoint. The pieces, in the order data flows through them: ``recipe`` (what a
config trains with), ``state`` (models, optimisers, what a checkpoint saves), ``step`` (one
generator step), ``loop`` (epochs, recorded through the Monitor), ``preview`` (each epoch's
picture and the samples the Monitor measures), ``checkpoint``, ``device``, ``progress``.

The loop is imported on first use, so that reading a checkpoint's path (the sweep planner, the
command line) does not import torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainResult", "load_training_data", "resume", "run_training", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ganwatch.training import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'ganwatch.training' has no attribute {name!r}")
