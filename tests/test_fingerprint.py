"""`--fingerprint` (hash compaction): states kept as 64-bit fingerprints, the records of
expanded states dropped and rebuilt by replay when a report needs them. A violation is
reported exactly as without it; an `ok` carries p(miss) and exits 3 unless accepted."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from conftest import ROOT

from gilcheck.explore import bfs
from gilcheck.explore.native import native_module
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, parse_spec
from gilcheck.report.json_schema import result_schema

pytestmark = pytest.mark.skipif(native_module() is None, reason="no C compiler here")

BUGGY = "bench/models/gil_workers_5.gil"
FIXED = "bench/models/gil_workers_fixed_4.gil"


def _json(cli, *args: str) -> tuple[int, dict[str, Any]]:  # type: ignore[no-untyped-def]
    done = cli("check", "--format", "json", *args)
    return done.code, json.loads(done.stdout)


def test_a_violation_is_reported_as_without_fingerprints(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bfs, "FORGET_EVERY", 1)  # every expanded record is dropped at once
    exact_code, exact = _json(cli, "--no-symmetry", BUGGY)
    code, found = _json(cli, "--no-symmetry", "--fingerprint", BUGGY)
    assert (code, exact_code) == (1, 1)
    assert found["verdict"] == exact["verdict"] == "deadlock"
    for key in ("states", "transitions", "steps", "waits", "cycle", "message"):
        assert found[key] == exact[key], key
    assert found["fingerprint"] is not None


def test_an_ok_carries_p_miss_and_exits_3_unless_accepted(cli) -> None:  # type: ignore[no-untyped-def]
    exact = cli("check", "--no-symmetry", FIXED)
    done = cli("check", "--no-symmetry", "--fingerprint", FIXED)
    assert (exact.code, done.code) == (0, 3)
    assert "verdict: ok (fingerprinted: p(miss) <= " in done.stdout
    assert "`stuck` and `livelock` were not looked for" in done.stdout
    assert "exhaustive up to fingerprints" in done.stdout
    accepted = cli("check", "--no-symmetry", "--fingerprint", "--accept-fingerprint", FIXED)
    assert accepted.code == 0 and ") (accepted)" in accepted.stdout
    code, report = _json(cli, "--no-symmetry", "--fingerprint", FIXED)
    _, plain = _json(cli, "--no-symmetry", FIXED)
    assert code == 3 and report["verdict"] == "ok" and report["states"] == plain["states"]
    assert 0 < report["fingerprint"]["p_miss"] < 1e-9 and not report["fingerprint"]["accepted"]
    assert set(report["storage"]) == {"fingerprints", "records kept", "trace links"}
    schema = jsonschema.Draft202012Validator(result_schema())
    assert [e.message for e in schema.iter_errors(report)] == []
    assert plain["fingerprint"] is None


def test_every_search_it_cannot_serve_is_refused_with_exit_2(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for extra in (["--workers", "2"], ["--strategy", "dfs"], ["--strategy", "random"]):
        done = cli("check", "--fingerprint", *extra, "specs/seed/fixed.gil")
        assert done.code == 2 and "--fingerprint" in done.stderr, extra
        assert "Traceback" not in done.stderr
    symbolic = cli("check", "--fingerprint", "specs/symbolic/batch_size_fixed.gil")
    assert symbolic.code == 2 and "unknown values" in symbolic.stderr
    monkeypatch.setenv("GILCHECK_NATIVE", "0")
    from gilcheck.explore import native

    monkeypatch.setattr(native, "_tried", False)
    monkeypatch.setattr(native, "_loaded", None)
    no_c = cli("check", "--fingerprint", "specs/seed/fixed.gil")
    assert no_c.code == 2 and "C extension" in no_c.stderr


def test_accept_without_fingerprint_is_a_warning(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--accept-fingerprint", "specs/seed/fixed.gil")
    assert done.code == 0 and "applies to `--fingerprint` only" in done.stderr


def test_a_fingerprinted_ok_is_never_cached_as_a_proof(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache, exact = tmp_path / "cache", tmp_path / "exact"
    done = cli("check", "--fingerprint", "--accept-fingerprint", "--cache", str(cache),
               "specs/seed/fixed.gil")  # fmt: skip
    assert done.code == 0
    assert not cache.exists() or not any(cache.rglob("*.json"))
    # The same check without --fingerprint is cached: the cache was really in use.
    assert cli("check", "--cache", str(exact), "specs/seed/fixed.gil").code == 0
    assert any(exact.rglob("*.json"))


def test_records_dropped_and_replayed_give_the_same_search(monkeypatch) -> None:
    monkeypatch.setattr(bfs, "FORGET_EVERY", 3)
    path = str(ROOT / "specs" / "seed" / "buggy.gil")
    options = CheckOptions(symmetry=False)
    exact = check_spec(parse_spec(path), options)
    fingerprinted = check_spec(parse_spec(path), CheckOptions(symmetry=False, fingerprint=True))
    assert fingerprinted.trace == exact.trace and fingerprinted.message == exact.message
    assert fingerprinted.p_miss is not None and fingerprinted.verdict == "deadlock"


def test_the_c_store_of_fingerprints() -> None:
    module = native_module()
    assert module is not None
    records = module.Records()
    records.use_fingerprints()
    assert [records.intern(bytes([i]), -1, 0) for i in range(3)] == [0, 1, 2]
    assert records.intern(bytes([1]), 0, 0) == -2  # known: its id is not kept
    for i in range(5000):  # past a growth of the table
        records.intern(i.to_bytes(4, "little"), 1, 1)
    assert len(records) == 5003
    records.forget(4000)
    with pytest.raises(KeyError):
        records.record(3999)
    assert records.record(4003) == (4000).to_bytes(4, "little")
    assert records.intern(b"a longer record", 2, 2) == 5003
    records.forget(5003)
    assert records.record(5003) == b"a longer record"
    assert records.parent(5003) == 2 and records.via(4003) == 1
    with pytest.raises(RuntimeError):
        records.use_fingerprints()  # chosen before the first state only
    exact = module.Records()
    with pytest.raises(RuntimeError):
        exact.forget(0)


def test_no_report_shows_a_fingerprinted_ok_as_a_proof(cli) -> None:  # type: ignore[no-untyped-def]
    spec = "specs/primitives/barrier_fixed.gil"
    expected = cli("check", "-q", "--fingerprint", "--expect", spec)
    assert expected.code == 1  # not accepted: not as expected, as an unaccepted draft
    shown = cli("check", "--fingerprint", spec).stdout
    assert "(expected ok: not accepted (--accept-fingerprint))" in shown
    assert cli("check", "-q", "--fingerprint", "--accept-fingerprint", "--expect", spec).code == 0
    _, report = _json(cli, "--fingerprint", "--record", "/dev/null", spec)
    assert report["exhaustive"] is False and report["proof"]["exhaustive"] is False
    assert report["proof"]["settings"]["fingerprint"] is True
    assert "states explored (fingerprinted" in report["message"]
    junit = cli("check", "-q", "--fingerprint", "-f", "junit", spec).stdout
    assert 'type="fingerprinted"' in junit and 'errors="1"' in junit
    sarif = json.loads(cli("check", "-q", "--fingerprint", "-f", "sarif", spec).stdout)
    (finding,) = sarif["runs"][0]["results"]
    assert finding["ruleId"] == "fingerprint" and finding["level"] == "warning"
    markdown = cli("check", "-q", "--fingerprint", "-f", "markdown", spec).stdout
    assert "ok (fingerprinted: p(miss) <= " in markdown and "(exhaustive)" not in markdown


def test_a_spec_expecting_stuck_or_livelock_is_inconclusive_with_fingerprints(cli) -> None:  # type: ignore[no-untyped-def]
    for spec in ("specs/progress/stuck_worker_buggy.gil", "specs/progress/polite_spin_buggy.gil"):
        done = cli("check", "--fingerprint", "--accept-fingerprint", spec)
        assert done.code == 3 and "verdict: inconclusive" in done.stdout
        assert "which `--fingerprint` does not look for" in done.stdout
