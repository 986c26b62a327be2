"""The managed part of a job's settings: what lakectl sent and what the Jobs service answers compare equal
when nothing changed (defaults, order), and a real change is named by its top-level field."""

from __future__ import annotations

import copy

from lakectl.deploy.managed import changed_fields, normalise

SENT = {
    "name": "p pipeline",
    "tags": {"lakectl_project": "p", "lakectl_schedule": "pipeline"},
    "max_concurrent_runs": 1,
    "tasks": [
        {"task_key": "ingest", "python_wheel_task": {"package_name": "lakectl", "entry_point": "lakectl-job", "parameters": ["ingest"]}},
        {"task_key": "transform", "depends_on": [{"task_key": "ingest"}], "max_retries": 2},
        {"task_key": "aggregate", "depends_on": [{"task_key": "ingest"}, {"task_key": "transform"}]},
    ],
    "schedule": {"quartz_cron_expression": "0 */5 * * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
    "email_notifications": {"on_failure": ["ops@example.com"]},
}


def _as_served(sent: dict) -> dict:
    got = copy.deepcopy(sent)
    got.update(timeout_seconds=0, format="MULTI_TASK", run_as={"user_name": "x"}, queue={"enabled": True}, webhook_notifications={})
    got["email_notifications"]["no_alert_for_skipped_runs"] = False
    for t in got["tasks"]:
        t.update(timeout_seconds=0, run_if="ALL_SUCCESS", email_notifications={})
        t.get("depends_on", []).reverse()
    got["tasks"].reverse()
    return got


def test_the_service_answer_for_unchanged_settings_is_no_change():
    served = _as_served(SENT)
    assert served != SENT  # a naive comparison would see changes
    assert changed_fields(SENT, served) == [] and normalise(SENT) == normalise(served)


def test_a_changed_schedule_is_named_and_nothing_else():
    want = copy.deepcopy(SENT)
    want["schedule"]["quartz_cron_expression"] = "0 */10 * * * ?"
    assert changed_fields(want, _as_served(SENT)) == ["schedule"]


def test_a_setting_lakectl_no_longer_sends_is_a_change_unless_it_is_the_default():
    have = _as_served(SENT)
    have["timeout_seconds"] = 1800  # deployed earlier with a timeout the config no longer has
    assert changed_fields(SENT, have) == ["timeout_seconds"]
    have["timeout_seconds"] = 0
    assert changed_fields(SENT, have) == []
