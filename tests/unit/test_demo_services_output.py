"""What `lakectl demo --with-services` prints at the end (table output): the services and their state, the
Kafka rows and the grants as lines, not as nested tables; the dry run's plan names the services' stages."""

from __future__ import annotations

from lakectl.core.results import Result

SERVICES = {
    "kafka": {
        "bootstrap": "127.0.0.1:40001",
        "ports": [40001, 40002],
        "data_dir": "/l/kafka",
        "log": "/l/kafka/kafka.log",
        "state": "stopped",
    },
    "unity_catalog": {
        "url": "http://127.0.0.1:40011",
        "ports": [40010, 40011],
        "data_dir": "/l/uc",
        "log": "/l/uc/uc.log",
        "state": "stopped",
    },
}


def _result(status: str = "ok") -> Result:
    metrics = {
        "verdict": "ok",
        "breaches": 0,
        "checks": 9,
        "services": SERVICES,
        "kafka": {
            "topic": "lakectl.events",
            "bootstrap": "127.0.0.1:40001",
            "produced": 2000,
            "rows_ingested": 1977,
            "rows_quarantined": 23,
        },
        "grants": {"policy": "/repo/configs/grants.yaml", "changes_applied": 21, "seeded": ["catalog lakehouse"]},
        "where": {"lake": "/l/tables", "kafka": "/l/kafka (stopped)", "catalog": "/l/uc (stopped)"},
        "next": ["lakectl grant drift"],
    }
    return Result(job="demo", status=status, metrics=metrics)


def test_the_services_the_kafka_rows_and_the_grants_are_lines_on_stderr(capsys):
    from lakectl.cli.commands.demo import _with_next_steps

    _with_next_steps(_result(), "table")
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert "services: Kafka (127.0.0.1:40001) and Unity Catalog (http://127.0.0.1:40011) stopped" in lines
    assert "kafka: 2,000 events produced to topic lakectl.events, 1,977 ingested into bronze.events, 23 quarantined" in lines
    assert "grants: 21 change(s) applied from /repo/configs/grants.yaml" in lines
    assert "  kafka    /l/kafka (stopped)" in lines and "  catalog  /l/uc (stopped)" in lines
    assert "seeded" not in out and "40002" not in out, "the services' figures are not rendered as tables too"


def test_after_a_failed_stage_it_still_says_the_services_were_stopped(capsys):
    from lakectl.cli.commands.demo import _with_next_steps

    _with_next_steps(_result(status="failed"), "table")
    err = capsys.readouterr().err
    assert err.splitlines() == ["services: Kafka (127.0.0.1:40001) and Unity Catalog (http://127.0.0.1:40011) stopped"]


def test_json_prints_everything_in_the_document_and_nothing_else(capsys):
    import json

    from lakectl.cli.commands.demo import _with_next_steps

    _with_next_steps(_result(), "json")
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["services"] == SERVICES and doc["kafka"]["rows_ingested"] == 1977 and doc["grants"]["changes_applied"] == 21
    assert err == ""
