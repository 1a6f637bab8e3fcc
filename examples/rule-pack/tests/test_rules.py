"""The pack's rules are tested the way normcheck tests its own (real dbt parse)."""

from __future__ import annotations

from acme_normcheck_rules import float_column

from normcheck.testing import check_examples


def test_float_column_docs_examples(tmp_path):
    check_examples(float_column, tmp_path)
