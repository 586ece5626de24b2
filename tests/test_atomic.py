"""write_atomically: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import pytest

from ganwatch.atomic import write_atomically


@pytest.mark.parametrize("durable", [True, False])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, durable) -> None:
    path = tmp_path / "sub" / "file.bin"
    assert write_atomically(path, lambda h: h.write(b"old"), durable=durable) == path
    assert path.read_bytes() == b"old"

    def half_then_fail(handle) -> None:
        handle.write(b"ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, half_then_fail, durable=durable)
    assert path.read_bytes() == b"old"
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]
    write_atomically(path, lambda h: h.write(b"new"), durable=durable)
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]
