"""Writing a file so that no reader, and no crash, ever sees half of it.

Checkpoints, grids, mirrored sweep files, cached references and the corpus are all read by
other processes (a dashboard, a resume, the next run) while they may be rewritten. Each is
written under a unique temporary name in the same folder and renamed into place: the rename
is atomic on one file system, so a reader sees the old file or the new one, never a mix.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], *, durable: bool = True
) -> Path:
    """Create ``path`` with ``write(handle)``, atomically; return the path.

    ``durable`` also fsyncs before the rename, so that a power loss right after cannot leave
    an empty file in place of the old one (worth it for checkpoints; not for a picture that
    the next epoch replaces). On any error the temporary file is removed and the old file,
    if any, is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        with open(temp, "xb") as handle:
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target
