"""A Databricks target's cluster access mode, policy and job environment, and the config as a job gets it."""

from __future__ import annotations

import pytest
import yaml

from lakectl.config import settings_from_dict
from lakectl.config.for_job import config_for_job
from lakectl.core.errors import ConfigError


def _target(**keys):
    raw = {"targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", **keys}}}
    return settings_from_dict(raw, "t.yaml").target("dbx")


def test_a_new_cluster_reaches_unity_catalog_by_default_and_takes_a_policy():
    target = _target(spark_version="16.4.x-scala2.12", node_type_id="m5d.large", policy_id="P0")
    assert (target.data_security_mode, target.policy_id) == ("DATA_SECURITY_MODE_AUTO", "P0")
    assert _target(serverless=True).policy_id is None


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"serverless": True, "data_security_mode": "LEGACY_SINGLE_USER"}, "cannot reach Unity Catalog"),
        ({"serverless": True, "environment_version": "5", "env": {"1ST": "x"}}, "is not an environment variable name"),
        ({"cluster_id": "0101-abc", "env": {"REGION": "eu"}}, "existing cluster"),
        ({"serverless": True, "env": {"REGION": "eu"}}, "environment_version 5 or later"),
        ({"serverless": True, "environment_version": "5", "env": {"KAFKA_PASSWORD": "hunter2"}}, "Databricks secret reference"),
    ],
    ids=["legacy-mode", "bad-name", "existing-cluster", "old-serverless", "literal-secret"],
)
def test_bad_target_settings_are_one_line_config_errors(keys, message):
    with pytest.raises(ConfigError, match=message) as err:
        _target(**keys)
    assert "hunter2" not in str(err.value) + (err.value.hint or "")


def test_a_secret_in_env_is_a_reference():
    target = _target(serverless=True, environment_version="5", env={"KAFKA_PASSWORD": "{{secrets/kafka/password}}", "REGION": "eu"})
    assert target.env == {"KAFKA_PASSWORD": "{{secrets/kafka/password}}", "REGION": "eu"}


def test_the_config_a_job_gets_is_resolved_here_but_secrets_and_the_jobs_own_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("ONLY_HERE", "resolved-here")
    monkeypatch.setenv("KAFKA_JAAS", "a secret of this machine")
    monkeypatch.delenv("LANDING_DIR", raising=False)
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "project": "${ONLY_HERE}",
                "sources": {
                    "files": {"path": "${LANDING_DIR:-/here/landing}"},
                    "kafka": {"options": {"kafka.sasl.jaas.config": "${KAFKA_JAAS}"}},
                },
                "storage": {"root": "${UNSET_WITH_DEFAULT:-/lake}/x"},
            }
        )
    )
    sent = config_for_job(config, job_env={"LANDING_DIR"})
    doc = yaml.safe_load(sent)
    assert doc["project"] == "resolved-here" and doc["storage"]["root"] == "/lake/x"
    assert doc["sources"]["files"]["path"] == "${LANDING_DIR:-/here/landing}"  # the job's env: sets it there
    assert doc["sources"]["kafka"]["options"]["kafka.sasl.jaas.config"] == "${KAFKA_JAAS}"
    assert b"a secret of this machine" not in sent
