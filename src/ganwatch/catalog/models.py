"""The model pairs ``--model`` chooses from (the code is in :mod:`ganwatch.models`)."""

from __future__ import annotations

from dataclasses import dataclass

from ganwatch.catalog._table import by_name, lookup


@dataclass(frozen=True)
class ModelSpec:
    """One model kind. ``data``: the kind of data it needs ("image", "points", or None: any);
    ``conditional``: it trains on the dataset's labels; ``pair``: the object that tells the
    training step how to call it (:mod:`ganwatch.models.pairs`)."""

    name: str
    summary: str
    pair: str
    data: str | None = None
    conditional: bool = False


_PAIRS = "ganwatch.models.pairs"

MODELS: dict[str, ModelSpec] = by_name(
    (
        ModelSpec(
            "auto", "the article's pair for images, the MLP pair for points", f"{_PAIRS}:PlainPair"
        ),
        ModelSpec(
            "article", "the article's convolutional pair", f"{_PAIRS}:PlainPair", data="image"
        ),
        ModelSpec(
            "mlp",
            "a fully connected pair: small for 2-D points, the classic MNIST MLP GAN for images",
            f"{_PAIRS}:PlainPair",
        ),
        ModelSpec(
            "cgan",
            "conditional GAN: both players see the label",
            f"{_PAIRS}:CGANPair",
            conditional=True,
        ),
        ModelSpec(
            "acgan",
            "auxiliary-classifier GAN: D predicts the label",
            f"{_PAIRS}:ACGANPair",
            conditional=True,
        ),
        ModelSpec(
            "infogan",
            "InfoGAN: unsupervised categorical and continuous codes",
            f"{_PAIRS}:InfoGANPair",
            conditional=True,
        ),
    )
)


def model_spec(name: str) -> ModelSpec:
    """The spec of model kind ``name``; an unknown name lists the valid ones."""
    return lookup(MODELS, name, "--model")
