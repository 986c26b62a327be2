"""Data quality over time: expectation pass rates from ops.dq_metrics, and quarantine growth
from the quarantine tables' Delta logs (rows added per commit and per day)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from lakectl.config import Settings
from lakectl.lake.deltars import column_lists, open_table, read_rows
from lakectl.monitor.tables import MAINTENANCE_OPS, committed_rows, iso

DQ_TABLE = "ops.dq_metrics"
QUARANTINE_TABLES = ("bronze.quarantine", "silver.quarantine")


@dataclass
class RuleQuality:
    table: str
    rule: str
    action: str | None
    runs: int
    rows_checked: int
    rows_failed: int
    last_pass_rate: float | None
    min_pass_rate: float | None
    last_recorded_at: str | None
    history: list[dict[str, Any]] = field(default_factory=list)  # [{recorded_at, run_id, pass_rate, rows_failed}]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pass_rate(checked: int | None, passed: int | None) -> float | None:
    if not checked:
        return None
    return round((passed or 0) / checked, 6)


def rule_quality(settings: Settings, *, since: datetime | None = None) -> list[RuleQuality]:
    rows = read_rows(settings.table(DQ_TABLE).path)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if since is not None and r.get("recorded_at") is not None and r["recorded_at"] < since:
            continue
        groups[(r.get("table") or "?", r.get("rule") or "?")].append(r)
    out = []
    for (table, rule), items in sorted(groups.items()):
        items.sort(key=lambda r: (r.get("recorded_at") is None, r.get("recorded_at")))
        history = [
            {
                "recorded_at": r["recorded_at"].isoformat(timespec="seconds") if r.get("recorded_at") else None,
                "run_id": r.get("run_id"),
                "pass_rate": pass_rate(r.get("rows_checked"), r.get("rows_passed")),
                "rows_checked": r.get("rows_checked"),
                "rows_failed": r.get("rows_failed"),
            }
            for r in items
        ]
        rates = [h["pass_rate"] for h in history if h["pass_rate"] is not None]
        out.append(
            RuleQuality(
                table=table,
                rule=rule,
                action=items[-1].get("action"),
                runs=len({r.get("run_id") for r in items}),
                rows_checked=sum(int(r.get("rows_checked") or 0) for r in items),
                rows_failed=sum(int(r.get("rows_failed") or 0) for r in items),
                last_pass_rate=rates[-1] if rates else None,
                min_pass_rate=min(rates) if rates else None,
                last_recorded_at=history[-1]["recorded_at"],
                history=history,
            )
        )
    return out


def latest_table_pass_rates(rules: list[RuleQuality]) -> dict[str, dict[str, float | None]]:
    """table -> rule -> pass rate of that rule's most recent run."""
    out: dict[str, dict[str, float | None]] = defaultdict(dict)
    for r in rules:
        out[r.table][r.rule] = r.last_pass_rate
    return dict(out)


def quarantine_growth(settings: Settings, keys: tuple[str, ...] = QUARANTINE_TABLES) -> list[dict[str, Any]]:
    """Per quarantine table: total rows, rows added per commit (version) and per day, from the log."""
    out = []
    for key in keys:
        handle = settings.table(key)
        dt = open_table(handle.path)
        if dt is None:
            out.append({"table": handle.display, "status": "missing", "rows": None, "per_version": [], "per_day": []})
            continue
        history = sorted(dt.history(), key=lambda c: c.get("version", 0))
        per_version = [
            {
                "version": c.get("version"),
                "timestamp": iso(c.get("timestamp")),
                "rows_added": committed_rows(c),
                "operation": c.get("operation"),
            }
            for c in history
            if c.get("operation") not in MAINTENANCE_OPS
        ]
        per_day: dict[str, int] = defaultdict(int)
        for v in per_version:
            if v["timestamp"]:
                per_day[v["timestamp"][:10]] += v["rows_added"]
        stats = column_lists(dt.get_add_actions(flatten=True))
        rows = sum(n for n in stats["num_records"] if n) if "num_records" in stats else None
        out.append(
            {
                "table": handle.display,
                "status": "ok",
                "version": dt.version(),
                "rows": rows,
                "per_version": per_version,
                "per_day": [{"day": d, "rows_added": n} for d, n in sorted(per_day.items())],
            }
        )
    return out


def replay_runs(settings: Settings, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Each finished `lakectl replay` from the run ledger, oldest first: the quarantine it replayed, how
    many rows it took, moved on and left failing."""
    import json

    from lakectl.monitor.ledger import TABLE, read_runs

    out = []
    for r in read_runs(settings.table(TABLE).path):
        if r.get("command") != "replay" or r.get("status") != "ok":
            continue
        started = r.get("started_at")
        if since is not None and started is not None and started < since:
            continue
        try:
            params = json.loads(r.get("params") or "{}")
        except ValueError:
            params = {}
        out.append(
            {
                "run_id": r.get("run_id"),
                "started_at": started.isoformat(timespec="seconds") if started else None,
                "layer": params.get("layer") or "silver",
                "rule": params.get("rule"),
                "replayed": int(r.get("rows_in") or 0),
                "moved": int(r.get("rows_out") or 0),
                "still_failing": int(r.get("rows_quarantined") or 0),
            }
        )
    out.sort(key=lambda x: x["started_at"] or "")
    return out
