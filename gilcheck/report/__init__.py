"""Rendering results, traces and diagnostics; one module per format. Never explores."""
