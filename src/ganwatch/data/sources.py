"""Where the MNIST-format image datasets come from: file names, official MD5s, mirrors.

The facts themselves are the catalog's (:mod:`ganwatch.catalog.datasets`); this module is the
download code's view of them, so that the download logic can be tested against a local server
with its own files and checksums. The MD5s are those published with each dataset (and used by
torchvision); a download that does not match them is rejected.
"""

from __future__ import annotations

from ganwatch.catalog.datasets import (
    DATASETS,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    DatasetSpec,
)

__all__ = ["SOURCES", "SPLIT_FILES", "get_source"]

#: split -> (images file, labels file); every downloadable dataset uses the same names.
SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": (TRAIN_IMAGES, TRAIN_LABELS),
    "test": (TEST_IMAGES, TEST_LABELS),
}

#: The datasets with files of their own to download.
SOURCES: dict[str, DatasetSpec] = {name: spec for name, spec in DATASETS.items() if spec.md5s}


def get_source(name: str) -> DatasetSpec:
    """Return the catalog entry of ``name``, or raise ValueError listing the downloadable ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(
            f"no download source for dataset {name!r}; known: {', '.join(SOURCES)}"
        ) from None
