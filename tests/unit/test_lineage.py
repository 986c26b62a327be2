"""Lineage without Spark: the OpenLineage events lakectl builds (valid, naming their parent), the file and
HTTP transports (a server that is down only warns), the run boundary's START then COMPLETE or FAIL, and
`lakectl lineage` answering from the recorded file in a process that never imports pyspark."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakectl.config import settings_from_dict
from lakectl.core.results import Result
from lakectl.engine.context import JobContext
from lakectl.lineage.events import run_event, run_uuid, to_json
from lakectl.lineage.model import ColumnSource, JobLineage, Output, path_dataset
from lakectl.lineage.recorded import graph_of, read_events
from lakectl.lineage.transports import Transports
from tests.lineage_spec import validate

REPO = Path(__file__).resolve().parents[2]


def _settings(root: Path, **lineage: Any) -> Any:
    return settings_from_dict({"storage": {"root": str(root)}, **({"lineage": lineage} if lineage else {})}, "<test>")


def _pipeline_events(root: Path) -> list[Any]:
    """What ingest, transform and aggregate of one `run` send, built the way tracking.py builds them."""
    t = root / "tables"
    landing = path_dataset(str(root / "landing" / "events"))
    bronze = path_dataset(str(t / "bronze" / "events"), "bronze.events", (("event_id", "string"), ("customer_id", "string")))
    silver = path_dataset(str(t / "silver" / "events"), "silver.events", (("event_id", "string"), ("customer_id", "string")))
    gold = path_dataset(str(t / "gold" / "kpi_hourly"), "gold.kpi_hourly", (("events", "bigint"), ("active_customers", "bigint")))
    stages = [
        ("ingest", [landing], Output(bronze, {c: [ColumnSource(landing, "value")] for c in ("event_id", "customer_id")})),
        ("transform", [bronze], Output(silver, {c: [ColumnSource(bronze, c)] for c in ("event_id", "customer_id")})),
        (
            "aggregate",
            [silver],
            Output(
                gold,
                {"events": [ColumnSource(silver, "event_id", "AGGREGATION")], "active_customers": [ColumnSource(silver, "customer_id")]},
            ),
        ),
    ]
    events = [run_event("START", namespace="p", job="run", run_id="r1")]
    for i, (job, inputs, output) in enumerate(stages, 1):
        common = {"namespace": "p", "job": job, "run_id": f"r1.{i}", "parent": ("run", "r1")}
        events.append(run_event("START", **common))
        events.append(run_event("COMPLETE", lineage=JobLineage(inputs, [output]), tags={"rows_written": "10"}, **common))
    events.append(run_event("COMPLETE", namespace="p", job="run", run_id="r1"))
    return events


def test_events_are_valid_openlineage_and_name_their_parent(tmp_path: Path) -> None:
    docs = [json.loads(to_json(e)) for e in _pipeline_events(tmp_path)]
    failed = json.loads(to_json(run_event("FAIL", namespace="p", job="ingest", run_id="r2", error="the broker is down")))
    for doc in docs + [failed]:
        validate(doc)
    assert [d["eventType"] for d in docs] == ["START"] + ["START", "COMPLETE"] * 3 + ["COMPLETE"]
    stage = docs[2]
    assert stage["run"]["runId"] == run_uuid("r1.1") != run_uuid("r1")
    assert stage["run"]["facets"]["parent"]["run"]["runId"] == run_uuid("r1") == docs[0]["run"]["runId"]
    assert {k: stage["run"]["facets"]["parent"]["job"][k] for k in ("namespace", "name")} == {"namespace": "p", "name": "run"}
    cl = docs[6]["outputs"][0]["facets"]["columnLineage"]["fields"]["events"]["inputFields"][0]
    assert (cl["name"], cl["field"], cl["transformations"][0]["subtype"]) == (
        str(tmp_path / "tables/silver/events"),
        "event_id",
        "AGGREGATION",
    )
    assert failed["run"]["facets"]["errorMessage"]["message"] == "the broker is down"


def test_the_spec_check_refuses_a_broken_event(tmp_path: Path) -> None:
    doc = json.loads(to_json(_pipeline_events(tmp_path)[2]))
    del doc["outputs"][0]["facets"]["columnLineage"]["fields"]["event_id"]["inputFields"][0]["field"]
    with pytest.raises(Exception, match="field"):
        validate(doc)
    doc = json.loads(to_json(_pipeline_events(tmp_path)[0]))
    doc["run"]["runId"] = "r1"
    with pytest.raises(Exception, match="uuid"):
        validate(doc)


def test_file_transport_round_trips_into_the_graph(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    transports = Transports(s)
    for event in _pipeline_events(tmp_path):
        assert transports.emit(event) == []
    path = s.lineage.file_path(s.storage.root_dir)
    assert path == tmp_path / "lineage" / "events.jsonl"
    events, bad = read_events(path)
    assert (len(events), bad) == (8, 0)
    graph = graph_of(events)
    tables, edges = graph.walk("gold.kpi_hourly", "upstream")
    assert [(t["table"], t["distance"]) for t in tables] == [
        (str(tmp_path / "landing" / "events"), -3),
        ("bronze.events", -2),
        ("silver.events", -1),
        ("gold.kpi_hourly", 0),
    ]
    assert [(e.source, e.target, e.job) for e in edges][-2:] == [
        ("bronze.events", "silver.events", "transform"),
        ("silver.events", "gold.kpi_hourly", "aggregate"),
    ]
    assert graph.writes["silver.events"].run_id == "r1.2"
    columns = {c["column"]: c for c in graph.column_lineage("gold.kpi_hourly", "upstream")}
    assert columns["active_customers"]["sources"] == [
        {"table": "silver.events", "column": "customer_id", "transformation": "TRANSFORMATION"}
    ]
    assert columns["active_customers"]["origins"] == [{"table": str(tmp_path / "landing" / "events"), "column": "value"}]
    down = {c["column"]: c for c in graph.column_lineage("bronze.events", "downstream")}
    assert down["event_id"]["reaches"] == [{"table": "gold.kpi_hourly", "column": "events"}]


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any], str | None]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body), self.headers.get("Authorization")))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def lineage_server() -> Iterator[tuple[str, list[tuple[str, dict[str, Any], str | None]]]]:
    handler = type("Handler", (_Collector,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    finally:
        server.shutdown()
        server.server_close()


def test_http_transport_posts_each_event_with_the_key_from_the_environment(tmp_path, lineage_server, monkeypatch) -> None:
    url, received = lineage_server
    monkeypatch.setenv("LINEAGE_TOKEN", "s3cr3t")
    s = _settings(tmp_path, transports=["http"], url=url, api_key_env="LINEAGE_TOKEN")
    transports = Transports(s)
    events = _pipeline_events(tmp_path)
    for event in events:
        assert transports.emit(event) == []
    assert [path for path, _, _ in received] == ["/api/v1/lineage"] * len(events)
    assert {auth for _, _, auth in received} == {"Bearer s3cr3t"}
    assert [doc["job"]["name"] for _, doc, _ in received] == [
        "run",
        "ingest",
        "ingest",
        "transform",
        "transform",
        "aggregate",
        "aggregate",
        "run",
    ]
    assert not (tmp_path / "lineage").exists()  # only http was configured


def test_a_lineage_server_that_is_down_only_warns(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = _settings(tmp_path, transports=["http"], url=f"http://127.0.0.1:{port}", timeout_s=1)
    problems = Transports(s).emit(run_event("START", namespace="p", job="ingest", run_id="r"))
    assert len(problems) == 1 and problems[0].startswith(f"could not send the lineage event to http transport (http://127.0.0.1:{port})")


def test_config_refuses_http_without_url(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="lineage.url"):
        _settings(tmp_path, transports=["http"])
    with pytest.raises(Exception, match="twice"):
        _settings(tmp_path, transports=["file", "file"])
    assert not Transports(_settings(tmp_path, transports=[])).enabled


def test_run_boundary_sends_start_then_complete_or_fail(tmp_path: Path, monkeypatch) -> None:
    from lakectl.jobs.tracking import tracked

    monkeypatch.setenv("LAKECTL_LEDGER", "off")
    ctx = JobContext(settings=_settings(tmp_path))
    with tracked(ctx, "optimize", {"dry_run": False}) as record:
        record.result = Result(job="optimize", tables_written=["silver.events"])
    with pytest.raises(RuntimeError), tracked(ctx, "vacuum", {}):
        raise RuntimeError("disk full")
    with tracked(ctx, "optimize", {"dry_run": True}) as record:  # a dry run changes nothing: no events
        record.result = Result(job="optimize", dry_run=True)
    events, _ = read_events(tmp_path / "lineage" / "events.jsonl")
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("optimize", "START"),
        ("optimize", "COMPLETE"),
        ("vacuum", "START"),
        ("vacuum", "FAIL"),
    ]
    for e in events:
        validate(e)
    assert events[1]["outputs"][0]["facets"]["symlinks"]["identifiers"][0]["name"] == "silver.events"
    assert events[1]["outputs"][0]["name"] == str(tmp_path / "tables" / "silver" / "events")
    assert "disk full" in events[3]["run"]["facets"]["errorMessage"]["message"]


def test_missing_client_is_one_warning_not_a_failure(tmp_path: Path, monkeypatch) -> None:
    from lakectl.jobs.tracking import tracked

    monkeypatch.setenv("LAKECTL_LEDGER", "off")
    monkeypatch.setitem(sys.modules, "openlineage.client", None)
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with tracked(JobContext(settings=_settings(tmp_path)), "optimize", {}) as record:
        record.result = Result(job="optimize")
    assert record.result.status == "ok"
    assert [
        w for w in record.result.warnings if "openlineage-python is not installed" in w
    ] and "lakectl[lineage]" in record.result.warnings[-1]
    assert not (tmp_path / "lineage").exists()


WATCH = (
    "import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write('PYSPARK_IMPORTED\\n' if 'pyspark' in sys.modules else 'no pyspark\\n')); "
    "sys.argv = ['lakectl'] + sys.argv[1:]; runpy.run_module('lakectl', run_name='__main__')"
)


def _lakectl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WATCH, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_lineage_command_answers_from_the_recorded_file_without_pyspark(tmp_path: Path) -> None:
    transports = Transports(_settings(tmp_path))
    for event in _pipeline_events(tmp_path):
        transports.emit(event)
    (tmp_path / "lineage" / "events.jsonl").open("a").write("not json\n")
    config = tmp_path / "lakectl.yaml"
    config.write_text(f"storage:\n  root: {tmp_path}\n")

    proc = _lakectl(config, "lineage", "gold.kpi_hourly", "--upstream", "--columns", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "no pyspark"
    doc = json.loads(proc.stdout)
    m = doc
    assert [t["table"] for t in m["tables"]][1:] == ["bronze.events", "silver.events", "gold.kpi_hourly"]
    assert {c["column"] for c in m["columns"]} == {"events", "active_customers"}
    assert m["events"] == 8 and any("1 line(s)" in w for w in doc["warnings"])

    kpi = _lakectl(config, "lineage", "kpi_hourly", "--json")  # a name without its schema, when only one table has it
    assert kpi.returncode == 0 and json.loads(kpi.stdout)["table"] == "gold.kpi_hourly", kpi.stderr
    both = _lakectl(config, "lineage", "events", "--downstream")
    assert both.returncode == 2 and "it matches bronze.events, silver.events" in both.stderr, both.stderr
    ok = _lakectl(config, "lineage", "silver.events", "--downstream")
    assert ok.returncode == 0 and "silver.events --aggregate--> gold.kpi_hourly" in ok.stdout, ok.stderr

    missing = _lakectl(config, "lineage", "gold.nope")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "no lineage for gold.nope in the recorded lineage" in missing.stderr


def test_monitor_report_draws_the_recorded_graph(tmp_path: Path) -> None:
    import re

    from lakectl.monitor.lineage_svg import lineage_svg

    transports = Transports(_settings(tmp_path))
    for event in _pipeline_events(tmp_path):
        transports.emit(event)
    svg = lineage_svg(graph_of(read_events(tmp_path / "lineage" / "events.jsonl")[0]))
    edges = set(re.findall(r'data-from="([^"]+)" data-to="([^"]+)" data-job="([^"]+)"', svg))
    assert {(a, b, j) for a, b, j in edges if not a.startswith("/")} == {
        ("bronze.events", "silver.events", "transform"),
        ("silver.events", "gold.kpi_hourly", "aggregate"),
    }
    x = {t: float(m) for t, m in re.findall(r'<g data-table="([^"]+)"><title>[^<]*</title><rect x="([0-9.]+)"', svg)}
    assert x[str(tmp_path / "landing" / "events")] < x["bronze.events"] < x["silver.events"] < x["gold.kpi_hourly"]
    assert "ingest · " in svg  # each written table says which job wrote it last
    assert "No lineage recorded yet" in lineage_svg(graph_of([]))


def test_system_table_queries_quote_every_name() -> None:
    from lakectl.core.sql import column_lineage_sql, table_lineage_sql

    hostile = "lake.gold.x') OR 1=1 --"
    text = table_lineage_sql(targets=[hostile], sources=[], days=30)
    assert "'lake.gold.x\\') OR 1=1 --'" in text and "`source_table_full_name` IN" not in text  # no sources: FALSE
    assert "FROM `system`.`access`.`table_lineage`" in text and "date_sub(current_date(), 30)" in text
    assert "FROM `system`.`access`.`column_lineage`" in column_lineage_sql(["a.b.c"])


def test_monitor_report_html_has_the_lineage_section(tmp_path: Path, monkeypatch) -> None:
    from lakectl.jobs import run_job

    monkeypatch.setenv("LAKECTL_LEDGER", "off")
    s = _settings(tmp_path)
    transports = Transports(s)
    for event in _pipeline_events(tmp_path):
        transports.emit(event)
    out = tmp_path / "report.html"
    run_job(JobContext(settings=s), "monitor", {"action": "report", "html": str(out)})
    html = out.read_text()
    section = html[html.index("<h2>Lineage</h2>") : html.index("<h2>", html.index("<h2>Lineage</h2>") + 4)]
    assert '<div class="scroll"><svg class="chart lineage"' in section
    assert 'data-from="silver.events" data-to="gold.kpi_hourly" data-job="aggregate"' in section

    off = _settings(tmp_path, transports=[])
    run_job(JobContext(settings=off), "monitor", {"action": "report", "html": str(out)})
    assert "No lineage: lineage.transports does not include file." in out.read_text()


def test_a_job_inside_a_databricks_run_sends_nothing(tmp_path: Path, monkeypatch) -> None:
    from lakectl.jobs.tracking import tracked

    monkeypatch.setenv("LAKECTL_LEDGER", "off")
    with tracked(JobContext(settings=_settings(tmp_path), on_cluster=True), "optimize", {}) as record:
        record.result = Result(job="optimize", tables_written=["silver.events"])
    assert record.result.warnings == [] and not (tmp_path / "lineage").exists()
