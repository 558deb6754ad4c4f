"""`gilcheck models`: the bundled model files, and where they are, through the CLI."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT


def _bundled() -> list[str]:
    return sorted(p.stem for p in (ROOT / "models").glob("*.gil"))


def test_models_lists_each_bundled_model_with_its_summary(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("models")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == _bundled()
    pyo3 = next(line for line in lines if line.startswith("pyo3 "))
    assert 'use "pyo3"' in pyo3  # the model's first comment line


def test_models_path_prints_the_folder_and_a_models_file(cli) -> None:  # type: ignore[no-untyped-def]
    folder = cli("models", "--path")
    assert folder.code == 0 and Path(folder.stdout.strip()) == ROOT / "models"
    one = cli("models", "--path", "cpython")
    assert one.code == 0 and Path(one.stdout.strip()) == ROOT / "models" / "cpython.gil"
    assert Path(one.stdout.strip()).is_file()
    named = cli("models", "std")
    assert (
        named.code == 0 and named.stdout.split()[0] == "std" and len(named.stdout.splitlines()) == 1
    )


def test_an_unknown_model_is_a_usage_error_with_a_suggestion(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("models", "--path", "cpyton")
    assert result.code == 2 and result.stdout == ""
    assert "no bundled model `cpyton`" in result.stderr
    assert "did you mean `cpython`?" in result.stderr
