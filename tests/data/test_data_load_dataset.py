"""load_dataset: shapes, scaling, sizes, devices, and the real MNIST folder when available."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from ganwatch.data import (
    DATASETS,
    DataNotFoundError,
    IdxFormatError,
    load_dataset,
    mode_centres,
    write_idx,
)


def _header_count(path: Path) -> int:
    """Item count from an IDX header, read independently of the code under test."""
    with gzip.open(path, "rb") as f:
        return struct.unpack(">I", f.read(8)[4:])[0]


@pytest.fixture
def mnist_dir(real_data_dir, tmp_path: Path, make_idx_folder, monkeypatch) -> Path:
    """$GANWATCH_DATA_DIR if it was set, else a synthetic folder; either way exported."""
    folder = Path(real_data_dir) if real_data_dir else tmp_path / "synthetic"
    if not real_data_dir:
        make_idx_folder(folder, n_train=64, n_test=32)
    monkeypatch.setenv("GANWATCH_DATA_DIR", str(folder))
    return folder


@pytest.mark.parametrize("split, prefix", [("train", "train"), ("test", "t10k")])
def test_mnist_from_data_dir(mnist_dir: Path, split: str, prefix: str) -> None:
    ds = load_dataset("mnist", split=split)
    n = _header_count(mnist_dir / f"{prefix}-images-idx3-ubyte.gz")
    assert n == _header_count(mnist_dir / f"{prefix}-labels-idx1-ubyte.gz")
    assert len(ds) == n and ds.data.shape == (n, 1, 28, 28) and ds.shape == (1, 28, 28)
    assert ds.kind == "image" and ds.data.dtype == torch.float32
    assert ds.data.min() >= -1 and ds.data.max() <= 1
    assert ds.labels.dtype == torch.int64 and ds.labels.shape == (n,)
    assert ds.labels.min() >= 0 and ds.labels.max() <= 9


def test_scaling_is_exact(tmp_path: Path, make_idx_folder) -> None:
    arrays = make_idx_folder(tmp_path)
    images, labels = arrays["train"]
    ds = load_dataset("fashion-mnist", data_dir=tmp_path)
    expected = (torch.from_numpy(images).float() / 255 - 0.5) / 0.5
    assert torch.equal(ds.data[:, 0], expected)
    assert torch.equal(ds.labels, torch.from_numpy(labels).long())
    # 0 and 255 map to exactly -1 and 1.
    assert ds.data[torch.from_numpy(images).unsqueeze(1) == 0].eq(-1).all()
    assert ds.data[torch.from_numpy(images).unsqueeze(1) == 255].eq(1).all()


def test_size_truncates_to_first_samples(tmp_path: Path, make_idx_folder) -> None:
    arrays = make_idx_folder(tmp_path)
    ds = load_dataset("kmnist", data_dir=tmp_path, split="test", size=7)
    assert len(ds) == 7
    expected = (torch.from_numpy(arrays["test"][0][:7]).float() / 255 - 0.5) / 0.5
    assert torch.equal(ds.data[:, 0], expected)
    with pytest.raises(ValueError, match="only 20"):
        load_dataset("kmnist", data_dir=tmp_path, split="test", size=21)


def test_stacked_mnist(tmp_path: Path, make_idx_folder) -> None:
    make_idx_folder(tmp_path)
    full = load_dataset("stacked-mnist", data_dir=tmp_path, seed=3)
    assert full.data.shape == (50, 3, 28, 28) and full.shape == (3, 28, 28)
    assert full.labels.min() >= 0 and full.labels.max() <= 999
    small = load_dataset("stacked-mnist", data_dir=tmp_path, seed=3, size=500)
    assert len(small) == 500
    again = load_dataset("stacked-mnist", data_dir=tmp_path, seed=3, size=500)
    assert torch.equal(small.data, again.data) and torch.equal(small.labels, again.labels)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_toy_sizes_and_seeds(name: str) -> None:
    ds = load_dataset(name)
    assert ds.kind == "points" and ds.data.shape == (100_000, 2) and ds.shape == (2,)
    assert ds.labels.max() == len(mode_centres(name)) - 1
    small = load_dataset(name, size=500, seed=1)
    assert torch.equal(small.data, load_dataset(name, size=500, seed=1).data)
    assert not torch.equal(small.data, load_dataset(name, size=500, seed=2).data)
    test = load_dataset(name, split="test", size=500, seed=1)
    assert not torch.equal(small.data, test.data)


def test_device_placement(tmp_path: Path, make_idx_folder) -> None:
    make_idx_folder(tmp_path)
    devices = ["cpu", torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append("cuda")
    for device in devices:
        for ds in (
            load_dataset("mnist", data_dir=tmp_path, device=device),
            load_dataset("ring", size=10, device=device),
        ):
            assert ds.data.device.type == torch.device(device).type
            assert ds.labels.device == ds.data.device


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError) as info:
        load_dataset("cifar10")
    assert all(name in str(info.value) for name in DATASETS)


def test_bad_split_and_size() -> None:
    with pytest.raises(ValueError, match="split"):
        load_dataset("ring", split="val")
    with pytest.raises(ValueError, match="size"):
        load_dataset("ring", size=0)


def test_missing_data_dir_files(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_dataset("mnist", data_dir=tmp_path)


def test_mismatched_label_count_rejected(tmp_path: Path, make_idx_folder) -> None:
    make_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(49, np.uint8), gzip=True)
    with pytest.raises(IdxFormatError, match="labels"):
        load_dataset("mnist", data_dir=tmp_path)
