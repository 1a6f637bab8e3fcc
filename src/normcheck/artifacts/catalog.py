"""Typed decoding of dbt's ``catalog.json``: column data types per node."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from normcheck.artifacts import unpacked
from normcheck.artifacts.manifest import json_error_line
from normcheck.errors import ArtifactError


class CatalogColumn(msgspec.Struct, frozen=True):
    name: str
    type: str | None = None
    index: int | None = None


class CatalogTable(msgspec.Struct, frozen=True):
    columns: dict[str, CatalogColumn] = {}


class Catalog(msgspec.Struct, frozen=True):
    nodes: dict[str, CatalogTable] = {}
    sources: dict[str, CatalogTable] = {}

    def column_types(self, unique_id: str) -> dict[str, str]:
        """Lower-cased column name -> data type for one node or source."""
        table = self.nodes.get(unique_id) or self.sources.get(unique_id)
        if table is None:
            return {}
        return {c.name.lower(): c.type for c in table.columns.values() if c.type}

    def columns_of(self, unique_id: str) -> list[tuple[str, str | None]]:
        """The relation's columns in the warehouse's order, with their types."""
        table = self.nodes.get(unique_id) or self.sources.get(unique_id)
        if table is None:
            return []
        listed = list(table.columns.values())
        ordered = sorted(listed, key=lambda c: c.index if c.index is not None else len(listed))
        return [(c.name, c.type) for c in ordered]


_DECODER = msgspec.json.Decoder(Catalog)


def load_catalog(path: Path, shown: str | None = None) -> Catalog | None:
    """The catalog at ``path``, or None when there is none (it is optional)."""
    shown = shown or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactError(f"cannot read catalog: {exc.strerror}", shown) from None
    data = unpacked(data, shown)
    try:
        return _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        line = json_error_line(exc, data) if isinstance(exc, msgspec.DecodeError) else None
        text = re.sub(r"\s*\(byte \d+\)", "", str(exc))
        raise ArtifactError(
            f"invalid catalog ({text}): re-run `dbt docs generate`", shown, line
        ) from None
    except (UnicodeDecodeError, RecursionError):
        raise ArtifactError(
            "invalid catalog (not UTF-8, or nested too deeply): re-run `dbt docs generate`", shown
        ) from None
