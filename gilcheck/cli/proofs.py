"""`--cache DIR` and `--record FILE` of one `gilcheck check`: the state of one run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gilcheck.cli.output import say


@dataclass
class Proofs:
    """The proof cache and record file of the running command, and the records so far."""

    cache: Path | None = None
    key: bytes = b""  # signs and checks the cache's records
    record: Path | None = None
    records: list[dict[str, object]] = field(default_factory=list)
    # Whether results carry their proof record: for `--cache`, `--record` and the JSON
    # report (making one hashes gilcheck's own code: start-up time a text report spares).
    wanted: bool = True


proofs = Proofs()


def write_records() -> None:
    """`--record FILE`: every proof record of this run."""
    if proofs.record is None:
        return
    target, proofs.record = proofs.record, None
    payload = {"schema": "gilcheck.proofs", "version": 1, "records": proofs.records}
    try:
        target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        say(f"error[unwritable-output]: cannot write {target}: {error.strerror}")
