"""Read and write IDX files, the binary format MNIST and its look-alikes ship in.

An IDX file is a 4-byte magic ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order, big-endian. The files are usually gzipped.

The reader trusts the header, not the file name or a known dataset size: a folder may hold a
re-packed subset (e.g. a training file whose header says 23,797 images), and that must load as
23,797 images. Because the header is the only source of truth, every disagreement between the
header and the bytes that follow it is an error rather than something to guess around.
"""

from __future__ import annotations

import gzip as gzip_lib
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["IdxFormatError", "read_idx", "write_idx", "IDX_DTYPES"]

GZIP_MAGIC = b"\x1f\x8b"

#: IDX dtype code -> big-endian numpy dtype, as defined by the format.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxFormatError(ValueError):
    """An IDX file is damaged or is not an IDX file; the message names the file."""


def _open(path: Path) -> BinaryIO:
    """The file's IDX byte stream, gunzipped when the content (not the name) is gzip.

    Sniffing the magic lets a user decompress ``x.gz`` in place without renaming it, or keep
    a gzip file without the suffix, and still load it. The stream is read as far as needed
    only, so a damaged header is refused before anything is decompressed.
    """
    with path.open("rb") as raw:
        gzipped = raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    return gzip_lib.open(path, "rb") if gzipped else path.open("rb")


def _read(path: Path, stream: BinaryIO, size: int) -> bytes:
    """``size`` bytes of the stream (fewer at its end), naming the file if gzip is corrupt."""
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(
            f"{path}: expected a valid gzip stream (the file starts with the gzip magic), "
            f"found a corrupt or truncated one ({exc})"
        ) from exc


def _parse_header(path: Path, data: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """Decode the header; return (dtype, shape, offset of the first value)."""
    if len(data) < 4:
        raise IdxFormatError(
            f"{path}: expected at least a 4-byte IDX magic, found only {len(data)} bytes"
        )
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IdxFormatError(
            f"{path}: expected an IDX magic 00 00 <dtype in {known}> <ndim>, "
            f"found {data[:4].hex(' ')}"
        )
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise IdxFormatError(
            f"{path}: expected a {offset}-byte header for {ndim} dimensions, "
            f"found only {len(data)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", data[4:offset])
    return IDX_DTYPES[code], shape, offset


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Load an IDX file (gzip or raw) into a writable, native-endian numpy array.

    The shape comes from the header, which is checked before the values are read. A file
    with fewer or more value bytes than the header promises raises :class:`IdxFormatError`:
    a silently short array would shift every later label against its image, and trailing
    bytes usually mean a header edited by hand.
    """
    path = Path(path)
    with _open(path) as stream:
        head = _read(path, stream, 4)
        ndim = head[3] if len(head) == 4 else 0
        head += _read(path, stream, 4 * ndim)
        dtype, shape, offset = _parse_header(path, head)
        expected = math.prod(shape) * dtype.itemsize
        data = _read(path, stream, expected)
        trailing = _read(path, stream, 1)
    if len(data) != expected or trailing:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        found = f"{len(data)}" if len(data) < expected else f"more than {expected}"
        raise IdxFormatError(
            f"{path}: file {what}: header {shape} of {dtype.str[1:]} expects {expected} "
            f"data bytes, found {found}"
        )
    values = np.frombuffer(data, dtype=dtype, count=math.prod(shape))
    # astype copies, which also makes the array writable (frombuffer views are read-only).
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _dtype_code(dtype: np.dtype) -> int:
    """Map an array dtype to its IDX code; byte order does not matter, we always write ">"."""
    for code, idx_dtype in IDX_DTYPES.items():
        if dtype.kind == idx_dtype.kind and dtype.itemsize == idx_dtype.itemsize:
            return code
    raise ValueError(
        f"IDX cannot store dtype {dtype}; supported: uint8, int8, int16, int32, float32, float64"
    )


def write_idx(path: str | os.PathLike[str], array: np.ndarray, gzip: bool) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``gzip`` is true; return the path.

    Handy for making a subset of a dataset (the header then carries the new count) and for
    tests. The gzip header gets a fixed mtime so the same array always gives the same bytes,
    and hence the same MD5.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _dtype_code(array.dtype)
    if array.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if gzip:
        payload = gzip_lib.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path
