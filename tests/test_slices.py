"""Reading one device's slice (noxjax/_checkpoint/_slices.py), on one device;
tests/multidevice/test_checkpoint_sharded.py reads real multi-device layouts."""

from __future__ import annotations

import io
import zlib

import jax
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import noxjax as nox
from noxjax._checkpoint._format import ArrayEntry
from noxjax._checkpoint._slices import read_sharded


def _file(values: np.ndarray, at: int = 64) -> tuple[io.BytesIO, ArrayEntry]:
    data = values.tobytes()
    entry = ArrayEntry("['x']", values.dtype, values.shape, at, len(data), zlib.crc32(data).to_bytes(4, "little"))
    return io.BytesIO(bytes(at) + data), entry


@pytest.fixture
def sharding() -> NamedSharding:
    return NamedSharding(Mesh(np.array(jax.devices()[:1]), ("data",)), P("data"))


def test_reads_the_array_and_checks_its_checksum(sharding: NamedSharding) -> None:
    values = np.arange(12, dtype=np.float32).reshape(4, 3)
    f, entry = _file(values)
    np.testing.assert_array_equal(read_sharded(f, entry, sharding, True, "f"), values)
    scalar_file, scalar = _file(np.array(7, np.int32))
    replicated = NamedSharding(sharding.mesh, P())
    assert int(read_sharded(scalar_file, scalar, replicated, True, "f")) == 7


def test_a_wrong_checksum_is_a_format_error_unless_unverified(sharding: NamedSharding) -> None:
    values = np.arange(4, dtype=np.float32)
    f, entry = _file(values)
    bad = entry._replace(crc32=b"\0\0\0\0")
    with pytest.raises(nox.FormatError, match=r"f: the checksum of array \"\['x'\]\" \(offset 64, 16 bytes\) does not match"):
        read_sharded(f, bad, sharding, True, "f")
    np.testing.assert_array_equal(read_sharded(f, bad, sharding, False, "f"), values)


@pytest.mark.parametrize("verify", [True, False])
def test_a_file_that_ends_inside_the_array_is_a_format_error(sharding: NamedSharding, verify: bool) -> None:
    values = np.arange(8, dtype=np.float32)
    f, entry = _file(values)
    short = io.BytesIO(f.getvalue()[:-5])  # the file shrank after its header was read
    with pytest.raises(nox.FormatError, match=r"f ends at offset 91, inside array \"\['x'\]\" \(offset 64\)"):
        read_sharded(short, entry, sharding, verify, "f")
