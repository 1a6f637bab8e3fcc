"""The load stage: dbt artifacts on disk -> typed, read-only records.

This is the only package that knows the raw manifest's quirks (schema
versions, ``config.meta`` versus ``meta``, where owners hide)."""

from __future__ import annotations

import gzip
import zlib

from normcheck.errors import ArtifactError

_GZIP_MAGIC = b"\x1f\x8b"


def unpacked(data: bytes, shown: str) -> bytes:
    """An artifact's JSON bytes: ``data`` itself, or decompressed when the file is
    gzip (artifacts are often archived so: ``manifest.json.gz``)."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise ArtifactError(f"gzip file that does not decompress: {exc}", shown) from None
