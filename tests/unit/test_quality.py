"""Expectations without a JVM: rule models, outcome precedence, config defaults and errors."""

from __future__ import annotations

import pytest

from lakectl.config import Expectation, settings_from_dict
from lakectl.core.errors import ConfigError
from lakectl.pipeline.silver.expectations import Rule, RuleMetric, merge_metrics, metrics_from, outcome_of, rules_for


@pytest.mark.parametrize(
    ("failed", "outcome"),
    [
        ([], "ok"),
        (["warn"], "ok"),
        (["warn", "drop"], "drop"),
        (["drop", "quarantine"], "quarantine"),  # never lose a row another rule would keep
        (["quarantine", "fail", "warn"], "fail"),
    ],
)
def test_outcome_is_the_strongest_failed_action(failed, outcome):
    assert outcome_of(failed) == outcome


def test_unknown_action_is_rejected():
    with pytest.raises(ConfigError, match="unknown action"):
        Rule("r", "x > 1", "explode")


def test_duplicate_rule_names_are_a_config_error():
    exps = [Expectation(name="a", expr="x > 1"), Expectation(name="a", expr="y > 1", action="warn")]
    with pytest.raises(ConfigError, match="appears twice"):
        rules_for(exps, "silver.events")


def test_defaults_apply_when_the_config_names_no_rules():
    s = settings_from_dict({}, "<t>")
    names = [e.name for e in s.transform.expectations]
    assert "price_range" in names and "event_type_known" in names
    assert s.transform.schema_drift == "rescue"


def test_config_expectations_replace_the_defaults_and_are_typed():
    s = settings_from_dict(
        {"transform": {"expectations": [{"name": "pos", "expr": "price > 0", "action": "drop"}], "schema_drift": "add"}}, "<t>"
    )
    assert [(e.name, e.action, e.table) for e in s.transform.expectations] == [("pos", "drop", "silver.events")]
    with pytest.raises(ConfigError, match="transform.expectations.0.action"):
        settings_from_dict({"transform": {"expectations": [{"name": "x", "expr": "1=1", "action": "explode"}]}}, "<t>")
    with pytest.raises(ConfigError, match="schema_drift"):
        settings_from_dict({"transform": {"schema_drift": "ignore"}}, "<t>")


def test_the_shipped_config_loads_with_its_transform_section():
    from pathlib import Path

    from lakectl.config import load_settings

    s = load_settings(Path(__file__).resolve().parents[2] / "configs" / "lakectl.yaml")
    rules = rules_for(s.transform.expectations, "silver.events")
    assert rules and {r.action for r in rules} <= {"warn", "drop", "quarantine", "fail"}


def test_metrics_from_one_aggregate_row_and_their_sum_over_batches():
    rules = [Rule("a", "x > 1", "quarantine"), Rule("b", "y > 1", "warn")]
    batch1 = metrics_from({"_fail_0": 3, "_fail_1": None}, rules, 10)
    assert [(m.rule, m.rows_checked, m.rows_passed, m.rows_failed) for m in batch1] == [("a", 10, 7, 3), ("b", 10, 10, 0)]
    total: dict = {}
    merge_metrics(total, batch1)
    merge_metrics(total, metrics_from({"_fail_0": 1, "_fail_1": 2}, rules, 5))
    assert total[("silver.events", "a")] == RuleMetric("silver.events", "a", "quarantine", 15, 11, 4)
    assert total[("silver.events", "b")].rows_failed == 2
