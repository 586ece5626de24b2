"""ganwatch: train GANs and catch their failure modes while they happen."""

__version__ = "0.1.0"
