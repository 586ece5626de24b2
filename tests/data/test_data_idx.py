"""IDX reading and writing: round trips, header-driven sizes, and damaged files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ganwatch.data import IdxFormatError, read_idx, write_idx


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path: Path, gz: bool, dtype: type) -> None:
    rng = np.random.default_rng(1)
    array = (rng.normal(size=(7, 5, 3)) * 100).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, gzip=gz)

    assert path.read_bytes().startswith(b"\x1f\x8b") == gz
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)
    back[0] = 0  # the result must be writable (torch.from_numpy warns otherwise)


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "no-suffix", array, gzip=True)
    write_idx(tmp_path / "raw.gz", array, gzip=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "no-suffix"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "raw.gz"), array)


def test_header_is_big_endian_mnist_layout(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), np.uint8), gzip=False)
    header = path.read_bytes()[:16]
    assert header == bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2


def test_subset_size_comes_from_header(tmp_path: Path) -> None:
    full = np.random.default_rng(0).integers(0, 256, (100, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "subset.gz", full[:37], gzip=True)
    subset = read_idx(tmp_path / "subset.gz")
    assert subset.shape == (37, 28, 28)
    np.testing.assert_array_equal(subset, full[:37])


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_file_names_file_and_sizes(tmp_path: Path, gz: bool) -> None:
    raw = write_idx(tmp_path / "full", np.ones((10, 4, 4), np.uint8), gzip=False).read_bytes()
    short = raw[:-5]
    path = tmp_path / "short.idx"
    path.write_bytes(gzip.compress(short) if gz else short)
    with pytest.raises(IdxFormatError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert "expects 160 data bytes, found 155" in str(info.value)


def test_trailing_bytes_rejected(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.ones((3,), np.uint8), gzip=False)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(IdxFormatError, match="trailing") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_header_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(IdxFormatError, match="16-byte header"):
        read_idx(path)


def test_corrupt_gzip_names_file(tmp_path: Path) -> None:
    good = write_idx(tmp_path / "good.gz", np.arange(1000, dtype=np.int32), gzip=True)
    data = bytearray(good.read_bytes())
    data[len(data) // 2 :] = b"\xff" * (len(data) - len(data) // 2)
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IdxFormatError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_cut_gzip_stream_names_file(tmp_path: Path) -> None:
    good = write_idx(tmp_path / "good.gz", np.arange(1000, dtype=np.int32), gzip=True)
    path = tmp_path / "cut.gz"
    path.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(IdxFormatError) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_bad_magic(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "x"
    path.write_bytes(magic + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(IdxFormatError, match="magic") as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert magic.hex(" ") in str(info.value)


def test_write_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint16"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16), gzip=False)
