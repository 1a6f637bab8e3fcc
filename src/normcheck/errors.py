"""Errors normcheck raises. Library code raises; only the CLI prints and exits."""

from __future__ import annotations

import json
import re
from typing import Any

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped


class NormcheckError(Exception):
    """Base class of every error normcheck raises on purpose."""


class UserError(NormcheckError):
    """A problem in the user's input: reported as one line, exit code 2.

    ``file`` and ``line`` name the place; the message says what is wrong and,
    where we can tell, how to fix it.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class ConfigError(UserError):
    """An invalid normcheck.yml or rule set."""


class ArtifactError(UserError):
    """A missing, broken or unsupported dbt artifact or input file."""


class UsageError(UserError):
    """A wrong command-line option."""


_LONG_NUMBER = re.compile(r"\d{4000,}")


def long_number_line(text: str) -> int | None:
    """The line of the first number too long for Python to convert: `json.loads`
    raises a ValueError for it, not a JSONDecodeError with a position."""
    found = _LONG_NUMBER.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else None


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def schema_problem(error: Any) -> str:
    """A jsonschema ValidationError's complaint, a wrong type said in YAML's words
    (`null is not a mapping`, where jsonschema says `None is not of type 'object'`)."""
    if error.validator != "type":
        return str(error.message)
    wanted = error.validator_value
    types = [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else []
    expected = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
    shown = json.dumps(error.instance, default=str)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{shown} is not {expected}"
