from __future__ import annotations

from pathlib import Path

import pytest

from lakectl.config import DatabricksTarget, SparkTarget, load_settings, mask_secrets, settings_from_dict
from lakectl.core.errors import ConfigError
from lakectl.core.typed import to_dict

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "lakectl.yaml"
    f.write_text(text)
    return f


def test_shipped_config_is_valid(monkeypatch):
    monkeypatch.delenv("LAKECTL_ROOT", raising=False)
    s = load_settings(REPO / "configs" / "lakectl.yaml")
    assert s.default_target == "local"
    assert s.target().kind == "local"
    assert isinstance(s.target("cluster"), SparkTarget)
    assert s.storage.root == ".lakectl"


def test_unknown_key_names_file_and_key_path(tmp_path):
    f = write(tmp_path, "storage:\n  root: /x\n  rooot: /y\n")
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert str(f) in e.value.message and "storage.rooot" in e.value.message and "unknown key" in e.value.message
    assert e.value.exit_code == 2


def test_wrong_type_names_key_path(tmp_path):
    f = write(tmp_path, "targets:\n  local:\n    kind: local\n    shuffle_partitions: many\n")
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert "targets.local.shuffle_partitions" in e.value.message


def test_env_interpolation_with_default_and_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("LK_ROOT", "/data/lake")
    s = settings_from_dict({"storage": {"root": "${LK_ROOT}", "landing": "${LK_UNSET:-/in}"}})
    assert s.storage.root == "/data/lake" and s.storage.landing == "/in"
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"storage": {"root": "${LK_MISSING_VAR}"}}, "c.yaml")
    assert "storage.root" in e.value.message and "LK_MISSING_VAR" in e.value.message


def test_inline_secret_is_refused_and_env_secret_is_masked(monkeypatch):
    raw = {"sources": {"kafka": {"options": {"kafka.sasl.jaas.config": "user=alice password=hunter2"}}}}
    with pytest.raises(ConfigError) as e:
        settings_from_dict(raw, "c.yaml")
    assert "hunter2" not in e.value.one_line()
    monkeypatch.setenv("JAAS", "secret-value")
    s = settings_from_dict({"sources": {"kafka": {"options": {"kafka.sasl.jaas.config": "${JAAS}"}}}})
    assert s.sources.kafka.options["kafka.sasl.jaas.config"] == "secret-value"
    masked = mask_secrets(to_dict(s))
    assert "secret-value" not in repr(masked)


def test_targets_are_discriminated(tmp_path):
    s = settings_from_dict({"targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", "profile": "p"}}})
    assert isinstance(s.target("dbx"), DatabricksTarget)
    with pytest.raises(ConfigError) as e:
        s.target("nope")
    assert "nope" in e.value.message
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"targets": {"local": {"kind": "local"}, "c": {"kind": "spark", "remote": "http://x"}}}, "c.yaml")
    assert "targets.c" in e.value.message


def test_table_handles_quote_their_names(tmp_path):
    s = settings_from_dict({"storage": {"root": str(tmp_path)}})
    t = s.table("silver.events")
    assert t.path == str(tmp_path / "tables" / "silver" / "events")
    assert t.ref == f"delta.`{t.path}`"
    s2 = settings_from_dict({"storage": {"root": str(tmp_path), "catalog": "main"}})
    evil = s2.table("bronze.ev`il")
    assert evil.ref == "`main`.`bronze`.`ev``il`"


def test_missing_explicit_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path / "nope.yaml")
    assert "nope.yaml" in e.value.message


def test_invalid_yaml_reports_line(tmp_path):
    f = write(tmp_path, "storage:\n  root: [unclosed\n")
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert str(f) in e.value.message and "invalid YAML" in e.value.message


@pytest.mark.parametrize(
    "raw, where, what",
    [
        ({"tables": {"silver.events": {"sla": {"min_pass_rate": 2}}}}, "tables.silver.events.sla.min_pass_rate", "<= 1"),
        (
            {"targets": {"local": {"kind": "local"}, "big": {"kind": "local", "master": "local[2]", "colour": 1}}},
            "targets.big.colour",
            "unknown key",
        ),
        ({"targets": {"local": {"kind": "local"}, "x": {"kind": "yarn"}}}, "targets.x.kind", "yarn"),
        (
            {"transform": {"expectations": [{"name": "ok", "expr": "a > 1"}, {"name": "", "expr": "b > 1"}]}},
            "transform.expectations.1.name",
            "length",
        ),
        ({"transform": {"expectations": [{"expr": "a > 1"}]}}, "transform.expectations.0.name", "required"),
        (
            {"tables": {"gold.kpi_hourly": {"optimize": {"zorder_by": ["a"], "cluster_by": ["b"]}}}},
            "tables.gold.kpi_hourly.optimize",
            "cannot both be set",
        ),
        ({"source_file": "x"}, "source_file", "unknown key"),
        ({"targets": {"local": {"kind": "local", "spark_conf": {"spark.a": 1}}}}, "targets.local.spark_conf.spark.a", "str"),
    ],
)
def test_validation_errors_name_the_exact_key(raw, where, what):
    with pytest.raises(ConfigError) as e:
        settings_from_dict(raw, "c.yaml")
    assert e.value.message.startswith(f"c.yaml: {where}: "), e.value.message
    assert what in e.value.message


def test_config_cache_skips_yaml_and_follows_edits(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    monkeypatch.setenv("LK_TOKEN", "s3cr3t-value")
    text = "storage:\n  root: {root}\nsources:\n  kafka:\n    options:\n      kafka.sasl.jaas.config: ${{LK_TOKEN}}\n"
    f = write(tmp_path, text.format(root="/a"))
    probe = (
        "import sys; from lakectl.config import load_settings; s = load_settings(sys.argv[1]); "
        "print(s.storage.root, s.sources.kafka.options['kafka.sasl.jaas.config'] == 's3cr3t-value', 'yaml' in sys.modules)"
    )

    def run() -> list[str]:
        out = subprocess.run([sys.executable, "-c", probe, str(f)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.split()

    assert run() == ["/a", "True", "True"]  # the first load parses the YAML
    assert run() == ["/a", "True", "False"]  # then the cached mapping is used, without importing yaml
    cached = list(Path(os.environ["LAKECTL_CACHE"]).glob("config/*.json"))
    assert len(cached) == 1 and "s3cr3t" not in cached[0].read_text()  # ${LK_TOKEN} is stored, not its value
    f.write_text(text.format(root="/b"))  # the same size, within the same clock tick: still a miss
    assert run() == ["/b", "True", "True"]
    assert run() == ["/b", "True", "False"]


def test_config_cache_keeps_neither_invalid_configs_nor_what_json_cannot_hold(tmp_path):
    import datetime
    import os

    from lakectl.core.cache import cached_config, store_config

    f = write(tmp_path, "project: 2026-11-26\n")  # YAML reads a date here: not a string, so invalid
    with pytest.raises(ConfigError):
        load_settings(f)
    assert not list(Path(os.environ["LAKECTL_CACHE"]).glob("config/*.json"))
    # A mapping JSON would change on the way back (a date, a non-string key) is not stored at all.
    for raw in ({"project": datetime.date(2026, 11, 26)}, {"tables": {1: {}}}):
        store_config("text", raw)
        assert cached_config("text") is None
    store_config("text", {"project": "p"})
    assert cached_config("text") == {"project": "p"}
