"""The Monitor: the one integration point between a training loop and ganwatch.

``monitor`` records steps and epochs, diagnoses and owns the run's life; ``measure`` prepares
the reference once and measures each epoch's samples, with the real-data bands.
"""

from ganwatch.monitor.monitor import Monitor

__all__ = ["Monitor"]
