"""``--format json``: the stable interface of SPEC §7."""

from __future__ import annotations

import json

from normcheck.run import Result


def render_json(result: Result) -> str:
    payload = {
        "version": 1,
        "findings": [f.as_json() for f in result.findings],
        "summary": result.summary(),
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
