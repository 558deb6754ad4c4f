"""What every command shares about its limits: the default memory limit, and the spec
being worked on (for the messages of a stop)."""

from __future__ import annotations

from gilcheck.memory import default_memory_limit_mb

__all__ = ["default_memory_limit_mb", "working_on"]


working_on: list[str] = []  # the spec being read or checked, for messages
