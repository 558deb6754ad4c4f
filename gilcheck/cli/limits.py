"""The spec being worked on, for the messages of a stop."""

from __future__ import annotations

working_on: list[str] = []  # the spec being read or checked, for messages
