"""Proof records (`--record`) and the proof cache (`--cache`), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

SPEC = """expect deadlock
mutex m
thread main {
    acquire m
    acquire m
}
"""


def test_record_names_hashes_settings_and_verdict(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    records = tmp_path / "proofs.json"
    result = cli("check", "--record", str(records), "--channel-bound", "3", str(spec))
    assert result.code == 1
    (entry,) = json.loads(records.read_text())["records"]
    assert entry["verdict"] == "deadlock" and entry["matches"] is True
    assert len(entry["spec_sha256"]) == 64 and entry["models"] == {}
    assert entry["settings"]["channel_bound"] == 3 and entry["settings"]["statement_merging"]
    assert entry["from_cache"] is False and entry["states"] > 0
    report = json.loads(cli("check", "-f", "json", str(spec)).stdout)
    assert report["proof"]["spec_sha256"] == entry["spec_sha256"]


def test_cache_skips_unchanged_specs_and_rechecks_changed_ones(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    first = cli("check", "--cache", str(cache), str(spec))
    assert first.code == 1 and "proof still valid" not in first.stdout
    again = cli("check", "--cache", str(cache), str(spec))
    assert again.code == 1 and "proof still valid" in again.stdout
    assert "verdict: deadlock" in again.stdout and "Final state" in again.stdout
    # Other bounds are another proof.
    other = cli("check", "--cache", str(cache), "--channel-bound", "2", str(spec))
    assert "proof still valid" not in other.stdout
    # A changed spec is checked again, and gives its new verdict.
    spec.write_text(SPEC.replace("expect deadlock", "expect ok").replace("    acquire m\n}", "}"))
    changed = cli("check", "--cache", str(cache), str(spec))
    assert changed.code == 0 and "proof still valid" not in changed.stdout


def test_a_changed_model_invalidates_the_proof(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "lib.gil"
    model.write_text("fn take(i) {\n    acquire m\n}\n")
    spec = tmp_path / "a.gil"
    spec.write_text('use "lib.gil"\nexpect ok\nmutex m\nthread main {\n    call take(0)\n}\n')
    cache = tmp_path / "cache"
    assert cli("check", "--cache", str(cache), "--expect", str(spec)).code == 0
    assert "cached proof" in cli("check", "--cache", str(cache), "--expect", str(spec)).stdout
    model.write_text("fn take(i) {\n    acquire m\n    acquire m\n}\n")
    result = cli("check", "--cache", str(cache), "--expect", str(spec))
    assert result.code == 1 and "cached proof" not in result.stdout


def test_an_inconclusive_result_is_never_cached(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "a.gil"
    spec.write_text("var x = 0\nthread main {\n    loop {\n        x = (x + 1) % 50\n    }\n}\n")
    cache = tmp_path / "cache"
    assert cli("check", "--cache", str(cache), "--max-states", "10", str(spec)).code == 3
    again = cli("check", "--cache", str(cache), "--max-states", "10", str(spec))
    assert "proof still valid" not in again.stdout


def test_a_corrupt_cache_entry_is_checked_again(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    cli("check", "--cache", str(cache), str(spec))
    for entry in cache.glob("*.json"):
        entry.write_text("{not json")
    result = cli("check", "--cache", str(cache), str(spec))
    assert result.code == 1 and "proof still valid" not in result.stdout
