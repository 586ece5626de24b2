"""Training: the loop, one step, the training state, checkpoints and previews.

``train(config, store)`` starts a run and trains it to the end; ``resume(store, run)`` continues
one from its checkpoint. The pieces, in the order data flows through them: ``recipe`` (what a
config trains with), ``state`` (models, optimisers, what a checkpoint saves), ``step`` (one
generator step), ``loop`` (epochs, recorded through the Monitor), ``preview`` (each epoch's
picture and the samples the Monitor measures), ``checkpoint``, ``device``, ``progress``.
"""

from ganwatch.training.loop import TrainResult, load_training_data, resume, run_training, train

__all__ = ["TrainResult", "load_training_data", "resume", "run_training", "train"]
