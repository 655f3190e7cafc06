"""The IDX format of the MNIST-family data files, read by the grader and by the child alike.

The child's harness imports this module before the submission runs, so the functions it uses are
bound before student code could patch `gzip` or `numpy`. Standard library and numpy only: this
file is copied into the child next to the harness.
"""

from __future__ import annotations

import gzip
import struct

import numpy

_gzip_open = gzip.open
_unpack = struct.unpack
_frombuffer = numpy.frombuffer
_prod = numpy.prod
IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}


class IdxError(ValueError):
    """The file is not a well-formed gzipped IDX file of unsigned bytes."""


def read_idx(path) -> numpy.ndarray:
    """Read a gzipped IDX file (the format of the official files) into a uint8 array."""
    with _gzip_open(path, "rb") as handle:
        payload = handle.read()
    if len(payload) < 8:
        raise IdxError(f"{path} is too short to be an IDX file")
    magic, count = _unpack(">II", payload[:8])
    ndim = magic & 0xFF
    if ndim not in IDX_MAGIC or magic != IDX_MAGIC[ndim]:
        raise IdxError(f"{path} has IDX magic {magic:#010x}, expected 0x801 or 0x803")
    dims = (count, *_unpack(f">{ndim - 1}I", payload[8 : 4 + 4 * ndim]))
    offset = 4 + 4 * ndim
    expected = int(_prod(dims))
    if len(payload) - offset != expected:
        raise IdxError(
            f"{path} holds {len(payload) - offset} bytes of data, header says {expected}"
        )
    return _frombuffer(payload, dtype="uint8", offset=offset).reshape(dims)


def idx_bytes(array: numpy.ndarray) -> bytes:
    """The uncompressed IDX encoding of a uint8 array of 1 or 3 dimensions."""
    array = numpy.ascontiguousarray(array, dtype=numpy.uint8)
    header = struct.pack(">I", IDX_MAGIC[array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()
