"""OpenLineage from a real `lakectl run`: a loopback lineage server receives every event over HTTP, each is a
valid RunEvent (tests/lineage_spec.py), the graph is landing -> bronze -> silver -> gold with the columns of the
tables the run wrote, and the file transport's copy of the same events answers `lakectl lineage`."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.lineage_spec import validate

pytestmark = [pytest.mark.e2e, pytest.mark.spark]
REPO = Path(__file__).resolve().parents[2]


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _lakectl(config: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKECTL_ROOT": str(root), "LAKECTL_CONFIG": str(config), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "lakectl", *args], capture_output=True, text=True, timeout=1500, env=env, cwd=root.parent)


def _table(dataset: dict[str, Any]) -> str:
    return dataset["facets"]["symlinks"]["identifiers"][0]["name"]


def test_run_sends_valid_openlineage_events_bronze_silver_gold_and_the_file_answers_lineage(tmp_path: Path) -> None:
    handler = type("Handler", (_Collector,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = tmp_path / "lake"
    config = tmp_path / "lakectl.yaml"
    config.write_text(
        (REPO / "configs" / "lakectl.yaml").read_text()
        + f"\nlineage:\n  transports: [file, http]\n  url: http://127.0.0.1:{server.server_address[1]}\n"
    )
    try:
        gen = _lakectl(config, root, "generate", "--events", "1500", "--json")
        assert gen.returncode == 0, gen.stderr
        run = _lakectl(config, root, "run", "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        assert json.loads(run.stdout)["warnings"] == []  # no transport failed
    finally:
        server.shutdown()
        server.server_close()

    received = [doc for path, doc in handler.received]
    assert {path for path, _ in handler.received} == {"/api/v1/lineage"}
    for doc in received:
        validate(doc)
    order = [(d["job"]["name"], d["eventType"]) for d in received]
    assert order == [
        ("generate", "START"),
        ("generate", "COMPLETE"),
        ("run", "START"),
        ("ingest", "START"),
        ("ingest", "COMPLETE"),
        ("transform", "START"),
        ("transform", "COMPLETE"),
        ("aggregate", "START"),
        ("aggregate", "COMPLETE"),
        ("run", "COMPLETE"),
    ]
    run_id = received[2]["run"]["runId"]
    for stage in received[3:9]:
        assert stage["run"]["facets"]["parent"]["run"]["runId"] == run_id
    done = {d["job"]["name"]: d for d in received if d["eventType"] == "COMPLETE"}

    # the graph: landing -> bronze.events -> silver.events -> gold.*
    assert [i["name"] for i in done["ingest"]["inputs"]] == [str(root / "landing" / "events")]
    # outputs are the tables a run wrote rows to (no bad payloads here: bronze.quarantine got none)
    assert {_table(o) for o in done["ingest"]["outputs"]} == {"bronze.events"}
    assert "bronze.events" in {_table(i) for i in done["transform"]["inputs"] if "symlinks" in i["facets"]}
    assert {_table(o) for o in done["transform"]["outputs"]} >= {"silver.events", "silver.reviews"}
    assert [_table(i) for i in done["aggregate"]["inputs"]] == ["silver.events"]
    assert {_table(o) for o in done["aggregate"]["outputs"]} == {
        "gold.customer_behavior_daily",
        "gold.product_performance_daily",
        "gold.funnel_daily",
        "gold.kpi_hourly",
        "gold.sentiment_daily",
    }
    outputs = {_table(o): o for d in done.values() for o in d.get("outputs", [])}
    assert outputs["silver.events"]["name"] == str(root / "tables" / "silver" / "events")

    # the columns: every column of these tables (from its Delta log) has its sources
    for name in ("silver.events", "silver.reviews", "gold.kpi_hourly", "gold.funnel_daily", "gold.customer_behavior_daily"):
        facets = outputs[name]["facets"]
        schema = {f["name"] for f in facets["schema"]["fields"]}
        mapped = set(facets["columnLineage"]["fields"])
        assert mapped == schema - {"run_id", "processed_time"}, (name, schema ^ mapped)

    def sources(table: str, column: str) -> set[tuple[str, str]]:
        fields = outputs[table]["facets"]["columnLineage"]["fields"][column]["inputFields"]
        return {(f["name"].rsplit("/tables/", 1)[-1], f["field"]) for f in fields}

    assert sources("gold.kpi_hourly", "revenue") == {("silver/events", "revenue")}
    assert sources("silver.events", "revenue") == {
        ("bronze/events", "event_type"),
        ("bronze/events", "price"),
        ("bronze/events", "quantity"),
    }
    assert sources("bronze.events", "event_id") == {(str(root / "landing" / "events"), "value")}

    # the file transport holds the same events, and `lakectl lineage` answers from it
    recorded = [json.loads(line) for line in (root / "lineage" / "events.jsonl").read_text().splitlines()]
    assert [(d["run"]["runId"], d["eventType"]) for d in recorded] == [(d["run"]["runId"], d["eventType"]) for d in received]
    answer = _lakectl(config, root, "lineage", "gold.kpi_hourly", "--upstream", "--columns", "--json")
    assert answer.returncode == 0, answer.stderr
    doc = json.loads(answer.stdout)
    assert [(t["table"], t["distance"]) for t in doc["tables"] if not t["table"].startswith("/")] == [
        ("bronze.events", -2),
        ("silver.events", -1),
        ("gold.kpi_hourly", 0),
    ]
    assert {t["last_write"]["job"] for t in doc["tables"] if t["last_write"]} == {"ingest", "transform", "aggregate"}
    revenue = next(c for c in doc["columns"] if c["column"] == "revenue")
    assert {(u["table"], u["column"]) for u in revenue["upstream"]} >= {
        ("silver.events", "revenue"),
        ("bronze.events", "price"),
        ("bronze.events", "quantity"),
    }
