"""CLI wiring of `lakectl transform` (Typer's CliRunner, in-process, on the shared session)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakectl.cli.app import app

pytestmark = pytest.mark.spark


def _config(tmp_path) -> str:
    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(f"storage:\n  root: {tmp_path / 'lake'}\n")
    return str(cfg)


def test_transform_without_bronze_is_one_line_and_exit_2(spark, tmp_path):
    out = CliRunner().invoke(app, ["--config", _config(tmp_path), "--json", "transform", "--dry-run"])
    assert out.exit_code == 2, out.output
    doc = json.loads(out.stdout.splitlines()[0])
    assert doc["error"]["kind"] == "table_not_found" and "lakectl ingest" in doc["error"]["hint"]


def test_batch_and_continuous_do_not_combine(tmp_path):
    out = CliRunner().invoke(app, ["--config", _config(tmp_path), "transform", "--batch", "--continuous"])
    assert out.exit_code == 2
    assert "--batch" in out.output


def test_help_lists_the_options():
    out = CliRunner().invoke(app, ["transform", "--help"])
    assert out.exit_code == 0
    for flag in ("--batch", "--continuous", "--schema-drift", "--dry-run", "--checkpoint"):
        assert flag in out.output
