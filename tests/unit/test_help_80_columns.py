"""Every command's --help fits 80 columns: no option name or help word cut with an ellipsis."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from lakectl.cli.app import build


def _paths(cmd, path):  # noqa: ANN001, ANN202
    yield path
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _paths(sub, path + [name])


def test_every_help_fits_80_columns_without_cutting_a_word():
    app = build()
    root = typer.main.get_command(app)
    cut = {}
    for path in _paths(root, []):
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
        assert result.exit_code == 0, (path, result.output)
        lines = result.output.splitlines()
        assert max(len(line) for line in lines) <= 80, path
        if "…" in result.output:
            cut[" ".join(path) or "lakectl"] = [line for line in lines if "…" in line]
    assert not cut, cut
