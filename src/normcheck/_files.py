"""Writing a user's file whole or not at all (a baseline, a report, a starter
configuration): a full disk or an interruption leaves the file as it was."""

from __future__ import annotations

import os
from pathlib import Path


def new_file_mode(existing: os.stat_result | None) -> int:
    """An existing file's permissions, or a new file's (0o666 less the umask)."""
    if existing is not None:
        return existing.st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def replace_whole(target: Path, text: str, mode: int) -> None:
    """Write ``text`` to a temporary file beside ``target`` (flushed to disk), give
    it ``mode`` and rename it over ``target``; the temporary file is removed when
    any step fails or is interrupted."""
    import tempfile  # only when writing

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
