"""Proof records (`--record`) and the proof cache (`--cache`), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _only_entry(cache: Path) -> Path:
    (entry,) = cache.glob("*.json")
    return entry


def _cached_once(tmp_path: Path, cli) -> tuple[Path, Path, Path, Any]:  # type: ignore[no-untyped-def]
    """SPEC checked once with `--cache`: the spec, the cache, its one record and its data."""
    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    assert cli("check", "--cache", str(cache), str(spec)).code == 1
    entry = _only_entry(cache)
    return spec, cache, entry, json.loads(entry.read_text())


def test_an_edited_record_is_checked_again(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec, cache, entry, data = _cached_once(tmp_path, cli)
    # Someone without the key turns the deadlock into a proof of safety.
    data["record"]["verdict"] = data["result"]["verdict"] = "ok"
    data["record"]["exhaustive"] = data["result"]["exhaustive"] = True
    data["result"]["steps"], data["result"]["waits"] = [], []
    entry.write_text(json.dumps(data))
    result = cli("check", "--cache", str(cache), str(spec))
    assert result.code == 1 and "verdict: deadlock" in result.stdout
    assert "proof still valid" not in result.stdout


def test_a_signed_record_that_contradicts_itself_is_checked_again(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.private import proof_key
    from gilcheck.report.proof import signature

    spec, cache, entry, data = _cached_once(tmp_path, cli)
    # Signed with the right key, but an `ok` that was not exhaustive and has a trace.
    data["record"]["verdict"] = data["result"]["verdict"] = "ok"
    payload = {"record": data["record"], "result": data["result"]}
    entry.write_text(json.dumps({**payload, "hmac": signature(proof_key(), payload)}))
    result = cli("check", "--cache", str(cache), str(spec))
    assert result.code == 1 and "proof still valid" not in result.stdout


def test_a_bound_result_is_never_cached(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "a.gil"
    spec.write_text("channel c: unbounded\nthread main {\n    loop { send c, 1 }\n}\n")
    cache = tmp_path / "cache"
    assert cli("check", "--cache", str(cache), str(spec)).code == 3
    assert not list(cache.glob("*.json"))


def test_records_are_trusted_only_with_the_key_that_signed_them(
    tmp_path: Path,
    cli,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    monkeypatch.setenv("GILCHECK_PROOF_KEY", "the CI secret of one team")
    assert cli("check", "--cache", str(cache), str(spec)).code == 1
    monkeypatch.setenv("GILCHECK_HOME", str(tmp_path / "another-user"))
    assert "proof still valid" in cli("check", "--cache", str(cache), str(spec)).stdout
    monkeypatch.delenv("GILCHECK_PROOF_KEY")  # another user's own key: not trusted
    assert "proof still valid" not in cli("check", "--cache", str(cache), str(spec)).stdout


def test_concurrent_writers_use_their_own_temporary_files(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from gilcheck.options import CheckOptions
    from gilcheck.pipeline import check_spec, parse_spec
    from gilcheck.report.proof import identity, load_cached, store
    from gilcheck.source import SourceMap

    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    loaded = parse_spec(str(spec), SourceMap())
    options = CheckOptions()
    result = check_spec(loaded, options)
    who = identity(str(spec), {str(spec): SPEC})
    cache, key = tmp_path / "cache", b"k" * 32
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: store(cache, who, options, result, key), range(32)))
    assert [p.name for p in cache.iterdir()] == [_only_entry(cache).name]  # no leftovers
    cached = load_cached(cache, who, options, key)
    assert cached is not None and cached.verdict == "deadlock"
    assert load_cached(cache, who, options, b"x" * 32) is None


def test_the_key_lives_in_a_private_folder(tmp_path: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    home = tmp_path / "home"
    monkeypatch.setenv("GILCHECK_HOME", str(home))
    spec = tmp_path / "a.gil"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    assert cli("check", "--cache", str(cache), str(spec)).code == 1
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "proof-key").stat().st_mode) == 0o600
    assert "proof still valid" in cli("check", "--cache", str(cache), str(spec)).stdout
    # A folder open to others is refused, and left as it is; so is a key others can read.
    home.chmod(0o1777)
    refused = cli("check", "--cache", str(cache), str(spec))
    assert "open to other users (mode 1777)" in refused.stderr
    assert "proof still valid" not in refused.stdout
    assert stat.S_IMODE(home.stat().st_mode) == 0o1777
    home.chmod(0o700)
    (home / "proof-key").chmod(0o644)
    refused = cli("check", "--cache", str(cache), str(spec))
    assert refused.code == 1 and "the proof cache is off" in refused.stderr
    assert "not the user's own private file" in refused.stderr
    (home / "proof-key").chmod(0o600)
    # A folder that is a symbolic link, or another user's, is never used.
    link = tmp_path / "link-home"
    link.symlink_to(home)
    monkeypatch.setenv("GILCHECK_HOME", str(link))
    refused = cli("check", "--cache", str(cache), str(spec))
    assert "symbolic link" in refused.stderr and "proof still valid" not in refused.stdout
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        other = tmp_path / "other-home"
        other.mkdir(mode=0o700)
        os.chown(other, 12345, 12345)
        monkeypatch.setenv("GILCHECK_HOME", str(other))
        refused = cli("check", "--cache", str(cache), str(spec))
        assert "belongs to another user" in refused.stderr


def test_a_stopped_search_with_unknowns_proves_no_condition(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # The deadlock for n == 8 lies beyond the state limit: what was found is a lower bound.
    spec = tmp_path / "u.gil"
    spec.write_text(
        "expect deadlock when n == 7\nparam n: int in 0..100\nmutex m\nvar a = 0\n"
        "var go = 0\nthread main {\n    if n == 7 {\n        acquire m\n        acquire m\n"
        "    }\n    go = 1\n    await a == 60\n    if n == 8 {\n        acquire m\n"
        "        acquire m\n    }\n}\nthread ta {\n    await go == 1\n"
        "    while a < 60 { a = a + 1 }\n}\nthread tb {\n    await go == 1\n"
        "    skip\n}\n"
    )
    cache = tmp_path / "cache"
    full = cli("check", "--expect", str(spec))
    assert full.code == 1 and "n == 7 or n == 8" in full.stdout + full.stderr
    stopped = cli("check", "--expect", "--max-states", "60", "--cache", str(cache), str(spec))
    assert stopped.code == 1, stopped.stdout  # not proved: a MISMATCH, never exit 0
    assert "(at least)" in stopped.stdout and "MISMATCH" in stopped.stdout
    assert not list(cache.glob("*.json"))  # nothing proved, nothing cached
    report = json.loads(cli("check", "-f", "json", "--max-states", "60", str(spec)).stdout)
    assert report["limit"] and report["condition_complete"] is False
    assert report["matches"] is False


def test_a_record_of_another_spec_path_is_not_used(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "a.gil"
    first.write_text(SPEC)
    (tmp_path / "sub").mkdir()
    second = tmp_path / "sub" / "b.gil"
    second.write_text(SPEC)
    cache = tmp_path / "cache"
    cli("check", "--cache", str(cache), str(first))
    result = cli("check", "--cache", str(cache), str(second))
    assert "proof still valid" not in result.stdout and "b.gil:4" in result.stdout
