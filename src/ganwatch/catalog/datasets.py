"""The datasets ``--dataset`` chooses from: their kind, classes, files and measuring classifier.

Images are MNIST-format IDX files (``files``: which dataset's files; Stacked MNIST is built from
MNIST's), found or downloaded by :mod:`ganwatch.data.download` from ``mirrors`` and checked
against the official ``md5s``. Points are Gaussian mixtures whose modes are known exactly
(``mixture``), so "how many modes does the generator cover" has a ground truth. ``classifier``
names the built-in classifier that measures a dataset's samples (None: no classifier fits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ganwatch.catalog._table import by_name, lookup

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"


@dataclass(frozen=True)
class Mixture:
    """A 2-D mixture of equal-weight Gaussians, std ``sigma``: ``layout`` "ring" (``modes``
    centres on each circle of ``radii``, every other circle turned by half a step) or "grid"
    (centres on ``coords`` x ``coords``)."""

    layout: str
    sigma: float
    modes: int = 0
    radii: tuple[float, ...] = (1.0,)
    coords: tuple[float, ...] = ()

    @property
    def count(self) -> int:
        return self.modes * len(self.radii) if self.layout == "ring" else len(self.coords) ** 2


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset. ``kind``: "image" or "points"; ``classes``: labels per sample;
    ``measure``: how its samples are measured ("image": classes and features through the
    classifier, "stacked": Stacked MNIST's 1,000 modes, "points": modes of the mixture)."""

    name: str
    summary: str
    kind: str
    classes: int
    measure: str = "image"
    files: str | None = None
    classifier: str | None = None
    md5s: dict[str, str] = field(default_factory=dict)
    mirrors: tuple[str, ...] = ()
    mixture: Mixture | None = None
    licence: str = ""

    @property
    def file_names(self) -> tuple[str, ...]:
        """The files a download fetches, in registry order."""
        return tuple(self.md5s)


DATASETS: dict[str, DatasetSpec] = by_name(
    (
        DatasetSpec(
            "mnist",
            "handwritten digits, 28x28 grey (LeCun et al.)",
            "image",
            10,
            files="mnist",
            classifier="mnist",
            md5s={
                TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
                TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
                TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
            },
            # yann.lecun.com comes last: it has been answering 403/404 to scripts for years.
            mirrors=(
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
                "http://yann.lecun.com/exdb/mnist/",
            ),
        ),
        DatasetSpec(
            "fashion-mnist",
            "clothing, 28x28 grey (Xiao et al., Zalando)",
            "image",
            10,
            files="fashion-mnist",
            classifier="fashion-mnist",
            md5s={
                TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
                TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
                TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
            },
            mirrors=(
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
            ),
        ),
        DatasetSpec(
            "kmnist",
            "Kuzushiji characters, 28x28 grey (Clanuwat et al.)",
            "image",
            10,
            files="kmnist",
            classifier="kmnist",
            md5s={
                TRAIN_IMAGES: "bdb82020997e1d708af4cf47b453dcf7",
                TRAIN_LABELS: "e144d726b3acfaa3e44228e80efcd344",
                TEST_IMAGES: "5c965bf0a639b31b8f53240b1b52f4d7",
                TEST_LABELS: "7320c461ea6c1c855c0b718fb2a4b134",
            },
            mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        ),
        DatasetSpec(
            "stacked-mnist",
            "three random MNIST digits as three channels: 1,000 modes (VEEGAN, PacGAN)",
            "image",
            1000,
            measure="stacked",
            files="mnist",
            classifier="mnist",
        ),
        DatasetSpec(
            "ring",
            "8 Gaussians on a circle of radius 1, sigma 0.01",
            "points",
            8,
            measure="points",
            mixture=Mixture("ring", 0.01, modes=8, radii=(1.0,)),
        ),
        DatasetSpec(
            "grid",
            "25 Gaussians on {-4,-2,0,2,4}^2, sigma 0.05",
            "points",
            25,
            measure="points",
            mixture=Mixture("grid", 0.05, coords=(-4.0, -2.0, 0.0, 2.0, 4.0)),
        ),
        DatasetSpec(
            "circles",
            "16 Gaussians on two circles (radius 1 and 2, 8 each, the outer turned by 22.5 "
            "degrees), sigma 0.02",
            "points",
            16,
            measure="points",
            mixture=Mixture("ring", 0.02, modes=8, radii=(1.0, 2.0)),
        ),
    )
)


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; an unknown name lists the valid ones."""
    return lookup(DATASETS, name, "--dataset")


def mixture_of(name: str) -> Mixture:
    """The Gaussian mixture of a points dataset; any other name is an error naming the toys."""
    spec = DATASETS.get(name)
    if spec is None or spec.mixture is None:
        toys = ", ".join(n for n, s in DATASETS.items() if s.mixture is not None)
        raise ValueError(f"unknown toy dataset {name!r}; valid: {toys}")
    return spec.mixture


def is_toy(name: str | None) -> bool:
    """Whether ``name`` is a dataset of points with known modes (ring, grid, ...)."""
    spec = DATASETS.get(name or "")
    return spec is not None and spec.mixture is not None
