"""The JSON Schema (draft 2020-12) of `gilcheck check --format json`, shipped in the package."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILE = "gilcheck-result.schema.json"


def schema_text() -> str:
    """The schema file's text, as installed with gilcheck."""
    return resources.files("gilcheck.report").joinpath("schema", SCHEMA_FILE).read_text("utf-8")


def result_schema() -> dict[str, Any]:
    """The schema as a JSON object."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema
