"""Regenerate the files derived from the rules: docs/rules.md and the JSON Schema.

python scripts/generate.py          # write them
python scripts/generate.py --check  # exit 1 if they are out of date (CI)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from normcheck.checks.registry import builtin_rules
from normcheck.config.schema import build_schema
from normcheck.docs import catalogue_markdown

ROOT = Path(__file__).resolve().parent.parent


def generated() -> dict[Path, str]:
    rules = builtin_rules()
    return {
        ROOT / "docs" / "rules.md": catalogue_markdown(rules),
        ROOT / "docs" / "normcheck.schema.json": json.dumps(
            build_schema(rules), indent=2, sort_keys=True
        )
        + "\n",
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, text in generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if "--check" not in argv:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale and "--check" in argv:
        print(f"out of date: {', '.join(map(str, stale))}; run python scripts/generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
