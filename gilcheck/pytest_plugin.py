"""The pytest plugin: with `--gil` (or `gil_specs = true`), every `*.gil` file is a test.

A spec's test passes when its verdict (and, for `expect ... when`, its condition) is the
one its `expect` line states (`ok` when it has none); it fails with the text report (the
trace and the wait-for chain) when it is not, and is an error when the spec cannot be
checked. gilcheck itself is imported only when a spec is collected, so the plugin costs
nothing in test runs that do not opt in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gilcheck.pipeline import Loaded
    from gilcheck.trace.model import CheckResult


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--gil`, `--gil-max-states` and their ini settings."""
    group = parser.getgroup("gilcheck", "gilcheck specs (*.gil) as tests")
    group.addoption(
        "--gil",
        action="store_true",
        default=False,
        help="collect *.gil specs: each passes when its verdict matches its `expect` line",
    )
    group.addoption(
        "--gil-max-states",
        type=int,
        default=None,
        metavar="N",
        help="stop a spec's check (a failure: inconclusive) after N states",
    )
    parser.addini("gil_specs", "collect *.gil specs as tests (as --gil does)", type="bool")
    parser.addini("gil_max_states", "the state limit of a spec's check (as --gil-max-states)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A `*.gil` file is a test file when the run opted in."""
    if file_path.suffix != ".gil" or not _enabled(parent.config):
        return None
    spec: SpecFile = SpecFile.from_parent(parent, path=file_path)
    return spec


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("gil", False) or config.getini("gil_specs"))


def _max_states(config: pytest.Config) -> int | None:
    given = config.getoption("gil_max_states", None)
    if given is not None:
        return int(given)
    ini = str(config.getini("gil_max_states") or "").replace("_", "").strip()
    if not ini:
        return None
    if not ini.isdigit() or int(ini) < 1:
        raise pytest.UsageError(f"gil_max_states must be a positive integer, not {ini!r}")
    return int(ini)


class SpecFile(pytest.File):
    """A spec file: one test, named after the file."""

    def collect(self) -> Iterator[pytest.Item]:
        """The spec's one test."""
        yield SpecItem.from_parent(self, name=self.path.stem)


class VerdictMismatch(Exception):
    """A verdict (or its condition) other than the spec's `expect` line states."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(f"{result.verdict} (expected {result.expected or 'ok'})")
        self.result = result


class SpecItem(pytest.Item):
    """Checking one spec against its `expect` line."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loaded: Loaded | None = None

    def setup(self) -> None:
        """Read, parse and analyze the spec: a spec with errors is a test error, not a failure."""
        from gilcheck.diagnostics import SpecError
        from gilcheck.pipeline import checkable_program, parse_spec
        from gilcheck.report.diagnostic_text import render_diagnostics
        from gilcheck.source import SourceMap

        sources = SourceMap()
        problem = None
        try:
            self._loaded = parse_spec(str(self.path), sources)
            checkable_program(self._loaded)
        except SpecError as error:
            problem = render_diagnostics(error.diagnostics, sources)
        except RecursionError:
            problem = f"error[nesting-too-deep]: `{self.path}` nests too deeply"
        except OSError as error:
            reason = error.strerror or str(error)
            problem = f"error[unreadable-file]: cannot read `{self.path}`: {reason}"
        if problem is not None:  # raised outside the handler: no chained exception shown
            pytest.fail(problem, pytrace=False)

    def runtest(self) -> None:
        """Explore the spec; fail unless its verdict is the one it expects."""
        from gilcheck.options import CheckOptions
        from gilcheck.pipeline import check_spec, with_draft_facts

        assert self._loaded is not None
        limit = _max_states(self.config)
        options = CheckOptions() if limit is None else CheckOptions(max_states=limit)
        result = with_draft_facts(check_spec(self._loaded, options), self._loaded)
        if (
            result.verdict != (result.expected or "ok")
            or result.when_matches is False
            or result.rests_on_assumptions  # a drafted spec's `ok` proves nothing alone
        ):
            raise VerdictMismatch(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        """A verdict mismatch is shown as gilcheck's text report."""
        if isinstance(excinfo.value, VerdictMismatch):
            from gilcheck.report.text import expected_phrase, render_text, verdict_phrase

            result = excinfo.value.result
            want = expected_phrase(result) or "ok"
            head = f"verdict {verdict_phrase(result)}, but the spec expects {want}"
            if result.rests_on_assumptions:
                head = (
                    f"verdict {verdict_phrase(result)}: a drafted spec's `ok` holds only under "
                    "its assumptions; check them and run `gilcheck check --accept-assumptions`"
                )
            return f"{head}\n\n{render_text(result)}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the test comes from, for pytest's report headers."""
        return self.path, 0, f"gilcheck spec {self.path.name}"
