"""Every flag value checked up front (issue 31, items 9 and 14): a value a job would refuse late (a trigger
interval Spark rejects 19 s into a run) is exit 2 when the command line is parsed, in one line naming the flag;
a config or policy file that is not UTF-8 is exit 2 naming the file, not a UnicodeDecodeError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakectl.cli.app import build
from lakectl.core.errors import ConfigError, UsageError
from lakectl.core.units import parse_interval


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30 seconds", 30),
        ("1 second", 1),
        ("1 minute 30 seconds", 90),
        ("interval 2 hours", 7200),
        ("500 milliseconds", 0.5),
        ("1.5 seconds", 1.5),
        ("  1 DAY ", 86400),
        ("0 seconds", 0),
    ],
)
def test_intervals_spark_takes(text, seconds):
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("5 secs", "unknown unit 'secs'"),
        ("10s", "bad trigger interval"),
        ("10seconds", "bad trigger interval"),
        ("1 month", "no months or years"),
        ("2 years", "no months or years"),
        ("-5 seconds", "negative"),
        ("1.5 minutes", "only seconds take a fraction"),
        ("", "bad trigger interval"),
        ("soon", "bad trigger interval"),
        ("5", "bad trigger interval"),
    ],
)
def test_intervals_spark_refuses_are_refused_here(text, why):
    with pytest.raises(UsageError, match=why):
        parse_interval(text)


def _lakectl(*args: str, tmp_path: Path):
    config = tmp_path / "lakectl.yaml"
    if not config.exists():
        config.write_text(f"storage:\n  root: {tmp_path / 'lake'}\n")
    return CliRunner().invoke(build(), ["--config", str(config), *args], env={"COLUMNS": "200"})


@pytest.mark.parametrize(
    ("args", "flag", "said"),
    [
        (["ingest", "--continuous", "--trigger-interval", "5 secs", "--dry-run"], "--trigger-interval", "bad trigger interval '5 secs'"),
        (["transform", "--continuous", "--trigger-interval", "1 month", "--dry-run"], "--trigger-interval", "no months or years"),
        (["score", "--continuous", "--trigger-interval", "10s", "--dry-run"], "--trigger-interval", "'30 seconds'"),
        (["optimize", "--vacuum", "--retain", "a week", "--dry-run"], "--retain", "bad retention 'a week'"),
        (["optimize", "--target-file-size", "big", "--dry-run"], "--target-file-size", "bad file size 'big'"),
        (["ingest", "--source", "kafka", "--starting-offsets", "first", "--dry-run"], "--starting-offsets", "bad starting offsets"),
        (["ingest", "--source", "kafka", "--bootstrap-servers", "localhost", "--dry-run"], "--bootstrap-servers", "HOST:PORT"),
        (["grant", "plan", "--url", "localhost:8080"], "--url", "bad URL"),
    ],
)
def test_a_bad_flag_value_is_exit_2_before_any_work(args, flag, said, tmp_path):
    result = _lakectl(*args, tmp_path=tmp_path)
    assert result.exit_code == 2, result.output
    assert flag in result.output and said in result.output and "Traceback" not in result.output
    assert not (tmp_path / "lake").exists()  # nothing ran


def test_good_flag_values_pass_the_check(tmp_path):
    from lakectl.cli.values import CHECKS

    for field, value in {
        "trigger_interval": "1 minute 30 seconds",
        "retain": "7d",
        "target_file_size": "128m",
        "starting_offsets": json.dumps({"events": {"0": 42, "1": -2}}),
        "bootstrap_servers": "127.0.0.1:9092,broker-2.example:9093",
        "url": "http://127.0.0.1:8080",
    }.items():
        CHECKS[field](value)  # no UsageError
    assert set(CHECKS) >= {"trigger_interval", "retain", "target_file_size"}


def test_a_bad_trigger_interval_in_the_config_is_a_config_error(tmp_path):
    from lakectl.config import load_settings

    config = tmp_path / "lakectl.yaml"
    config.write_text("ingest:\n  trigger_interval: 5 secs\n")
    with pytest.raises(ConfigError, match="trigger_interval"):
        load_settings(config)


@pytest.mark.parametrize("kind", ["config", "policy"])
def test_a_file_that_is_not_utf8_is_exit_2_naming_the_file(kind, tmp_path):
    bad = tmp_path / f"{kind}.yaml"
    bad.write_bytes("# Zürich\nstorage:\n  root: /tmp/caf\xe9\n".encode("latin-1"))
    if kind == "config":
        result = CliRunner().invoke(build(), ["--config", str(bad), "monitor", "tables"], env={"COLUMNS": "200"})
    else:
        config = tmp_path / "lakectl.yaml"
        config.write_text(f"storage:\n  root: {tmp_path / 'lake'}\ngrant:\n  policy: {bad}\n  url: http://127.0.0.1:9\n")
        result = CliRunner().invoke(build(), ["--config", str(config), "grant", "plan"], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert str(bad) in result.output and "not UTF-8" in result.output and "UnicodeDecodeError" not in result.output
    assert f"{bad}:1:" in result.output  # the line of the first bad byte
