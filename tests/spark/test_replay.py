"""lakectl replay: quarantined rows re-run through today's rules land in the next layer exactly once.

One small lake (generated events + records that fail silver's rules or bronze's parse) is built once per
module; each test replays a copy of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakectl.config import default_expectations
from lakectl.datagen.events import generate
from lakectl.jobs import run_job

pytestmark = [pytest.mark.spark]
REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 2, tzinfo=UTC)

# event_id -> its fields; each fails price_range (and one also quantity_range) or rating_range.
SILVER_BAD = {
    "x-neg-price": {"event_type": "purchase", "price": -5.0, "quantity": 1},
    "x-neg-review": {"event_type": "review", "price": -3.0, "rating": 5, "review_text": "great"},
    "x-huge": {"event_type": "purchase", "price": 500000.0, "quantity": 1},
    "x-neg-qty0": {"event_type": "purchase", "price": -5.0, "quantity": 0},
    "x-rating-9": {"event_type": "review", "rating": 9, "review_text": "meh"},
}
LOOSENED = "price IS NULL OR price <= 100000"  # price_range without its lower bound: negative prices pass
# After loosening: event_id -> (status, rules)
EXPECTED = {
    "x-neg-price": ("moved", ["price_range"]),
    "x-neg-review": ("moved", ["price_range"]),
    "x-huge": ("failing", ["price_range"]),
    "x-neg-qty0": ("failing", ["quantity_range"]),  # the new reason: price passes now, quantity does not
    "x-rating-9": ("failing", ["rating_range"]),
}
SILVER_VOLATILE = {"run_id", "processed_time"}
QUARANTINE_VOLATILE = {"replay_run_id", "replayed_at", "run_id", "quarantined_at"}


def _line(event_id: str, **fields) -> str:
    base = {"event_id": event_id, "event_type": "page_view", "event_time": "2026-11-02T10:00:00Z", "customer_id": "C0000001"}
    base.update(session_id="s1", product_id="P00001", device="desktop", country="US", **fields)
    return json.dumps(base)


def _config(root: Path, *, loosened: bool) -> dict:
    rules = [
        {"name": e.name, "expr": LOOSENED if loosened and e.name == "price_range" else e.expr, "action": e.action}
        for e in default_expectations()
    ]
    return {
        "storage": {"root": str(root / "lake")},
        "transform": {"expectations": rules},
        "targets": {"local": {"kind": "local", "shuffle_partitions": 2}},
    }


def _ctx(root: Path, spark, *, loosened: bool = True):
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext

    return JobContext(settings=settings_from_dict(_config(root, loosened=loosened), "<test>"), _spark=spark)


@pytest.fixture(scope="module")
def base_lake(tmp_path_factory, spark) -> Path:
    """generate -> ingest -> transform with the default rules: five rows in silver.quarantine, two in bronze.quarantine."""
    root = tmp_path_factory.mktemp("replay-base")
    ctx = _ctx(root, spark, loosened=False)
    landing = ctx.settings.storage.landing_dir
    generate(landing, 300, seed=11, start=START, days=1)
    lines = [_line(i, **f) for i, f in SILVER_BAD.items()] + [_line("x-wishlist", event_type="wishlist"), "{not json"]
    (landing / "events" / "events-extra.jsonl").write_text("\n".join(lines) + "\n")
    assert run_job(ctx, "ingest", {"source": "files"}).rows_quarantined == 2
    assert run_job(ctx, "transform", {}).rows_quarantined == len(SILVER_BAD)
    return root


def _copy(base: Path, root: Path) -> Path:
    """A copy of the lake whose checkpoints name the copy's tables (transform refuses a checkpoint of other tables)."""
    shutil.copytree(base / "lake", root / "lake")
    for f in (root / "lake" / "checkpoints").rglob("*.json"):
        f.write_text(f.read_text().replace(str(base), str(root)))
    return root


@pytest.fixture
def lake(base_lake, tmp_path) -> Path:
    return _copy(base_lake, tmp_path)


def _df(ctx, key: str):
    return ctx.spark.read.format("delta").load(ctx.settings.table(key).path)


def _version(ctx, key: str) -> int:
    from lakectl.lake.deltars import open_table

    dt = open_table(ctx.settings.table(key).path)
    return -1 if dt is None else dt.version()


def _quarantine_state(ctx) -> dict[str, tuple]:
    return {r["event_id"]: (r["replay_status"], list(r["rules"]), r["replay_run_id"]) for r in _df(ctx, "silver.quarantine").collect()}


def _rows(ctx, key: str, volatile: set[str]) -> list[tuple]:
    df = _df(ctx, key)
    return sorted(tuple(str(v) for v in r) for r in df.select(*sorted(c for c in df.columns if c not in volatile)).collect())


def test_loosened_rule_moves_exactly_the_rows_that_now_pass_once(lake, spark):
    ctx = _ctx(lake, spark)
    silver_before = _df(ctx, "silver.events").count()
    assert "replay_status" not in _df(ctx, "silver.quarantine").columns  # written before replay existed

    plan = run_job(ctx, "replay", {"dry_run": True})
    assert (plan.rows_read, plan.rows_written, plan.rows_quarantined, plan.metrics["reason_changed"]) == (5, 2, 3, 1)
    assert plan.tables_written == [] and _df(ctx, "silver.events").count() == silver_before
    assert "replay_status" not in _df(ctx, "silver.quarantine").columns  # a dry run alters nothing

    result = run_job(ctx, "replay", {})
    run_id = result.metrics["run_id"]
    assert (result.rows_read, result.rows_written, result.rows_quarantined) == (5, 2, 3)
    assert (result.metrics["inserted"], result.metrics["reviews_inserted"], result.metrics["marked"]) == (2, 1, 5)
    assert {d["rule"]: d["still_failing"] for d in result.details} == {"price_range": 1, "quantity_range": 1, "rating_range": 1}
    assert result.tables_written == ["silver.events", "silver.reviews", "silver.quarantine"]

    # exactly the rows that pass now moved, stamped with this replay's run id, and the review reached silver.reviews
    silver = _df(ctx, "silver.events")
    moved = {r["event_id"]: r["run_id"] for r in silver.where("event_id LIKE 'x-%'").collect()}
    assert moved == {"x-neg-price": run_id, "x-neg-review": run_id}
    assert silver.count() == silver_before + 2
    assert [r["event_id"] for r in _df(ctx, "silver.reviews").where("event_id LIKE 'x-%'").collect()] == ["x-neg-review"]
    # every replayed row is marked with the run id; those still failing carry their new reason
    assert _quarantine_state(ctx) == {e: (s, rules, run_id) for e, (s, rules) in EXPECTED.items()}

    # conservation: every distinct valid bronze event is in silver or still waiting in quarantine, not both
    bronze_ids = {r[0] for r in _df(ctx, "bronze.events").select("event_id").distinct().collect()}
    silver_ids = {r[0] for r in silver.select("event_id").collect()}
    waiting = {e for e, (s, _) in EXPECTED.items() if s == "failing"}
    assert silver_ids.isdisjoint(waiting) and bronze_ids == silver_ids | waiting

    # a second replay writes nothing: no new commit on any table
    versions = {k: _version(ctx, k) for k in ("silver.events", "silver.reviews", "silver.quarantine")}
    again = run_job(ctx, "replay", {})
    assert (again.rows_read, again.rows_written, again.metrics["inserted"], again.metrics["marked"]) == (3, 0, 0, 0)
    assert again.tables_written == [] and {k: _version(ctx, k) for k in versions} == versions
    assert _quarantine_state(ctx)["x-huge"][2] == run_id

    # monitor quality lists both replays with their figures
    quality = run_job(ctx, "monitor", {"action": "quality"})
    replays = [(r["run_id"], r["layer"], r["replayed"], r["moved"], r["still_failing"]) for r in quality.metrics["replays"]]
    assert replays == [(run_id, "silver", 5, 2, 3), (again.metrics["run_id"], "silver", 3, 0, 3)]


def test_rule_and_since_narrow_the_replay(lake, spark):
    ctx = _ctx(lake, spark)
    only = run_job(ctx, "replay", {"rule": "rating_range"})
    assert (only.rows_read, only.rows_written, only.rows_quarantined) == (1, 0, 1)
    state = _quarantine_state(ctx)
    assert state["x-rating-9"][0] == "failing" and state["x-neg-price"][0] is None  # the others were not taken
    future = run_job(ctx, "replay", {"since": "2999-01-01", "dry_run": True})
    assert future.rows_read == 0
    recent = run_job(ctx, "replay", {"since": "1d", "dry_run": True})
    assert (recent.rows_read, recent.rows_written) == (5, 2)  # x-rating-9 still failing: still waiting


def test_bad_since_is_one_line_usage_error(lake, spark):
    from lakectl.core.errors import UsageError

    with pytest.raises(UsageError, match="--since 'yesterday'"):
        run_job(_ctx(lake, spark), "replay", {"since": "yesterday"})


def test_bronze_replay_reparses_with_todays_parse_into_bronze_once(lake, spark, monkeypatch):
    from lakectl.pipeline.bronze import parse

    ctx = _ctx(lake, spark)
    bronze_before = _df(ctx, "bronze.events").count()
    monkeypatch.setattr(parse, "EVENT_TYPES", (*parse.EVENT_TYPES, "wishlist"))  # the parse learnt a new event type
    result = run_job(ctx, "replay", {"layer": "bronze"})
    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.metrics["inserted"]) == (2, 1, 1, 1)
    assert {d["rule"]: d["still_failing"] for d in result.details} == {"malformed_json": 1}
    rows = _df(ctx, "bronze.events").where("event_id = 'x-wishlist'").collect()
    assert [r["ingest_run_id"] for r in rows] == [result.metrics["run_id"]]
    state = {r["raw"]: (r["replay_status"], r["reason"]) for r in _df(ctx, "bronze.quarantine").collect()}
    assert sorted(state.values()) == [("failing", "malformed_json"), ("moved", "unknown_event_type")]

    again = run_job(ctx, "replay", {"layer": "bronze"})
    assert (again.rows_read, again.metrics["inserted"], again.metrics["marked"]) == (1, 0, 0)
    assert _df(ctx, "bronze.events").count() == bronze_before + 1
    # transform takes the replayed bronze row like any new one (and its own rules quarantine the unknown type)
    transform = run_job(ctx, "transform", {})
    assert (transform.rows_read, transform.rows_quarantined) == (1, 1)


@pytest.mark.e2e
def test_kill_between_the_commits_then_rerun_equals_an_uninterrupted_replay(base_lake, tmp_path, spark):
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    for root in (reference, crashed):
        _copy(base_lake, root)
    run_job(_ctx(reference, spark), "replay", {})

    (crashed / "lakectl.yaml").write_text(json.dumps(_config(crashed, loosened=True)))
    env = {**os.environ, "LAKECTL_KILL_AT": "replay.before_marks", "LAKECTL_LEDGER": "off", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", "--config", str(crashed / "lakectl.yaml"), "replay"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,
    )
    assert proc.returncode == -9, f"not killed: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    ctx = _ctx(crashed, spark)
    assert _df(ctx, "silver.events").where("event_id LIKE 'x-%'").count() == 2  # silver written, quarantine not marked
    assert {s for s, _, _ in _quarantine_state(ctx).values()} == {None}

    rerun = run_job(ctx, "replay", {})
    assert (rerun.rows_written, rerun.metrics["inserted"], rerun.metrics["marked"]) == (2, 0, 5)
    ref = _ctx(reference, spark)
    for key, volatile in (
        ("silver.events", SILVER_VOLATILE),
        ("silver.reviews", SILVER_VOLATILE),
        ("silver.quarantine", QUARANTINE_VOLATILE),
    ):
        assert _rows(ctx, key, volatile) == _rows(ref, key, volatile), f"{key} differs after the kill and re-run"
