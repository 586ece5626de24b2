"""Where the MNIST-format image datasets come from: file names, official MD5s, mirrors.

Kept as plain data, apart from the download code, so that the download logic can be tested
against a local server with its own files and checksums, and so that adding a dataset is a
one-entry change. The MD5s are those published with each dataset (and used by torchvision);
a download that does not match them is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DatasetSource", "SOURCES", "SPLIT_FILES", "get_source"]

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

#: split -> (images file, labels file); every registered dataset uses the same names.
SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": (TRAIN_IMAGES, TRAIN_LABELS),
    "test": (TEST_IMAGES, TEST_LABELS),
}


@dataclass(frozen=True)
class DatasetSource:
    """One downloadable dataset: its files with their MD5s, and mirrors tried in order."""

    name: str
    md5s: dict[str, str]
    mirrors: tuple[str, ...]

    @property
    def file_names(self) -> tuple[str, ...]:
        """All file names of the dataset, in registry order."""
        return tuple(self.md5s)


SOURCES: dict[str, DatasetSource] = {
    "mnist": DatasetSource(
        name="mnist",
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
    "fashion-mnist": DatasetSource(
        name="fashion-mnist",
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
    "kmnist": DatasetSource(
        name="kmnist",
        md5s={
            TRAIN_IMAGES: "bdb82020997e1d708af4cf47b453dcf7",
            TRAIN_LABELS: "e144d726b3acfaa3e44228e80efcd344",
            TEST_IMAGES: "5c965bf0a639b31b8f53240b1b52f4d7",
            TEST_LABELS: "7320c461ea6c1c855c0b718fb2a4b134",
        },
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    ),
}


def get_source(name: str) -> DatasetSource:
    """Return the registry entry for ``name``, or raise ValueError listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(
            f"no download source for dataset {name!r}; known: {', '.join(SOURCES)}"
        ) from None
