"""Shared by the tests/test_report_*.py files: a copy of sample_project/, the
`teams` fixture project behind the golden outputs, the golden-file helper, a
Chromium finder and a small PNG decoder (no Pillow in the venv)."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

from conftest import REPO, build_dbt_project

SAMPLE = REPO / "sample_project"
GOLDEN = Path(__file__).resolve().parent / "golden" / "report"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
UPDATE = os.environ.get("NORMCHECK_UPDATE_GOLDEN") == "1"
_SKIP_PARTS = {"target", "logs", "dbt_packages"}


def sample_files() -> dict[str, str]:
    """The sample project's own files: what a clone has (no target/, no logs)."""
    files = {}
    for path in sorted(SAMPLE.rglob("*")):
        rel = path.relative_to(SAMPLE)
        if path.is_dir() or _SKIP_PARTS & set(rel.parts) or ".duckdb" in path.name:
            continue
        files[rel.as_posix()] = path.read_text(encoding="utf-8")
    return files


def sample_copy(tmp: Path, parse: bool = True) -> Path:
    """A copy of sample_project/ at ``tmp/sample_project``, parsed by real dbt (cached)."""
    return build_dbt_project(tmp, sample_files(), name="sample_project", parse=parse)


def assert_golden(name: str, text: str) -> None:
    """Compare ``text`` with tests/golden/report/NAME byte for byte;
    NORMCHECK_UPDATE_GOLDEN=1 rewrites the file instead (review the diff)."""
    path = GOLDEN / name
    data = text.encode("utf-8")
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.is_file(), f"no golden file {path}: run with NORMCHECK_UPDATE_GOLDEN=1"
    expected = path.read_bytes()
    assert data.decode() == expected.decode(), f"{name} differs from its golden file"
    assert data == expected


CENTRAL = """\
# The central team's rule set for the golden-output project. It extends nothing,
# so rules added to normcheck later do not change the goldens.
version: 1
extends: []
owners:
  finance: {email: finance@example.com}
  growth: {email: growth@example.com}
  marketing: {email: marketing@example.com}
  platform: {email: platform@example.com}
vocabulary:
  preferred: {amt: amount}
rules:
  naming/model-prefix:
    severity: error
    locked: true
    options:
      layers:
        marts: {paths: ["models/marts/**"], prefixes: [fct_, dim_]}
  ownership/missing-owner: error
  ownership/unknown-owner: error
  docs/missing-description:
    severity: warning
    options: {resource_types: [model, column]}
  naming/vocabulary: warning
"""

TEAM_CONFIG = """\
version: 1
extends: [central.yml]
team: platform
rules:
  naming/model-prefix: warning     # refused: the rule is locked
overrides:
  - match: {paths: ["models/marts/fct_legacy.sql"]}
    rules: {docs/missing-description: info}
"""

TEAMS_FILES = {
    "central.yml": CENTRAL,
    "normcheck.yml": TEAM_CONFIG,
    "models/marts/orders.sql": "select 1 as order_id\n",
    "models/marts/fct_revenue.sql": "select 1 as revenue_amount\n",
    "models/marts/dim_campaigns.sql": "select 1 as campaign_id, 2 as spend_amt\n",
    "models/marts/dim_channels.sql": "select 1 as channel_id\n",
    "models/marts/fct_sessions.sql": (
        "-- normcheck: ignore[docs/missing-description] documented in the BI tool\n"
        "select 1 as session_id\n"
    ),
    "models/marts/fct_legacy.sql": "select 1 as export_id\n",
    "models/marts/fct_orphan.sql": "select 1 as orphan_id\n",
    "models/marts/_marts.yml": """\
version: 2
models:
  - name: orders
    description: One row per order.
    config: {meta: {owner: growth}}
  - name: fct_revenue
    description: Revenue per day.
    config: {meta: {owner: finance}}
    columns:
      - name: revenue_amount
        description: Revenue in cents.
  - name: dim_campaigns
    description: One row per campaign.
    config: {meta: {owner: marketing}}
    columns:
      - name: campaign_id
        description: The campaign.
      - name: spend_amt
        description: What the campaign spent, in cents.
  - name: dim_channels
    config: {meta: {owner: marketing}}
  - name: fct_sessions
    config: {meta: {owner: marketing}}
  - name: fct_legacy
    config: {meta: {owner: growth-old}}
  - name: fct_orphan
    description: Nobody's.
""",
}


def teams_project(tmp: Path) -> Path:
    """The golden-output project: growth red, marketing yellow (one warning, one
    suppressed, one baselined), finance green, an unknown owner, a locked rule."""
    from normcheck import baseline
    from normcheck.run import RunOptions, run

    project = build_dbt_project(tmp, TEAMS_FILES, name="shop")
    result = run(RunOptions(project_dir=project, use_baseline=False, use_cache=False))
    debt = [f for f in result.findings if f.resource == "model.shop.dim_channels"]
    assert len(debt) == 1, debt
    (project / "baseline.json").write_text(baseline.render(baseline.entries_for(debt, set())))
    config = project / "normcheck.yml"
    config.write_text(
        TEAM_CONFIG.replace("team: platform\n", "team: platform\nbaseline: baseline.json\n")
    )
    return project


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit, non-interlaced RGB/RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        previous = line
        rgb = bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3)
        rows.append(rgb)
    return width, height, rows


def write_png(path: Path, width: int, rows: list[bytes]) -> None:
    """An 8-bit RGB PNG of ``rows`` (each ``width`` * 3 bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def crop_to_content(rows: list[bytes], margin: int = 28) -> list[bytes]:
    """The rows down to the last one that is not all the page's background colour."""
    background = rows[-1][:3]
    last = max((y for y, row in enumerate(rows) if row != background * (len(row) // 3)), default=0)
    return rows[: min(len(rows), last + 1 + margin)]
