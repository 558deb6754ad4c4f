"""Exports of a checked spec to other tools."""
