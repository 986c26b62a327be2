"""LAKECTL_ROOT without a config file (issue 31, item 8): the built-in defaults put the lake where it points,
as the shipped config's `${LAKECTL_ROOT:-.lakectl}` does; the warning and the monitors say so."""

from __future__ import annotations

from typer.testing import CliRunner

from lakectl.cli.app import build
from lakectl.config import load_settings


def test_lakectl_root_is_honoured_without_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/lakectl.yaml here
    monkeypatch.delenv("LAKECTL_CONFIG", raising=False)
    lake = tmp_path / "elsewhere"
    monkeypatch.setenv("LAKECTL_ROOT", str(lake))
    settings = load_settings()
    assert settings.source_file == "<defaults>" and settings.storage.root_dir == lake
    assert settings.table("silver.events").path.startswith(str(lake))
    result = CliRunner().invoke(build(), ["monitor", "tables", "--json"], env={"COLUMNS": "200", "LAKECTL_ROOT": str(lake)})
    assert result.exit_code == 0 and f"with the lake in {lake}" in result.stderr
    monkeypatch.delenv("LAKECTL_ROOT")
    assert load_settings().storage.root_dir.absolute() == tmp_path / ".lakectl"  # unset: the default
