"""``--format json``: the stable interface of SPEC §7. A run in which rules crashed
(exit 3) adds ``crashes``: each crashed rule, or plugin that failed to import, once."""

from __future__ import annotations

import json

from normcheck.report._common import crashed
from normcheck.run import Result


def render_json(result: Result) -> str:
    payload: dict[str, object] = {
        "version": 1,
        "findings": [f.as_json() for f in result.findings],
        "summary": result.summary(),
    }
    if result.crashes:  # only then: a run without crashes gives the same bytes as ever
        payload["crashes"] = [
            {
                "rule": c.rule,
                "plugin": c.plugin,
                "resource": c.resource,
                "message": c.error,
                "count": c.count,
            }
            for c in crashed(result)
        ]
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
