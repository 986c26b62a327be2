"""`monitor report` for the terminal: the HTML report's headlines as data (breaches first, then tables,
streams, data quality and recent runs), for a person who has a shell and no browser."""

from __future__ import annotations

from typing import Any

from lakectl.monitor.quality import RuleQuality
from lakectl.monitor.sla import Check
from lakectl.monitor.streams import StreamHealth
from lakectl.monitor.tables import TableHealth


def headlines(
    *,
    tables: list[TableHealth],
    streams: list[StreamHealth],
    rules: list[RuleQuality],
    checks: list[Check],
    runs: list[dict[str, Any]],
    min_pass_rate: float | None,
) -> dict[str, Any]:
    """What needs attention, section by section; every figure is raw (the CLI formats it)."""
    present = [t for t in tables if t.status == "ok"]
    late = [
        t.table
        for t in present
        if t.freshness_sla_minutes is not None and (t.freshness_minutes is None or t.freshness_minutes > t.freshness_sla_minutes)
    ]
    rated = [r for r in rules if r.last_pass_rate is not None]
    lowest = min(rated, key=lambda r: r.last_pass_rate or 0.0, default=None)
    failed = [r for r in runs if r.get("status") in ("failed", "interrupted")]
    return {
        "checks": {
            "total": len(checks),
            "breaches": [{"name": c.name, "message": c.message} for c in checks if c.status == "breach"],
            "passed": sum(c.status == "pass" for c in checks),
            "skipped": sum(c.status == "skipped" for c in checks),
        },
        "tables": {
            "present": len(present),
            "missing": [t.table for t in tables if t.status == "missing"],
            "unreadable": [t.table for t in tables if t.status not in ("ok", "missing")],
            "late": late,
            "rows": sum(t.rows or 0 for t in present),
            "bytes": sum(t.bytes or 0 for t in present),
        },
        "streams": {
            "total": len(streams),
            "running": [s.stream for s in streams if s.state == "running"],
            "never_run": [s.stream for s in streams if s.state == "never-run"],
            "backlog": {s.stream: s.backlog_records if s.backlog_records is not None else s.backlog_files for s in streams},
        },
        "quality": {
            "rules": len(rules),
            "lowest": None
            if lowest is None
            else {"table": lowest.table, "rule": lowest.rule, "pass_rate": lowest.last_pass_rate, "rows_failed": lowest.rows_failed},
            "below": [
                {"table": r.table, "rule": r.rule, "pass_rate": r.last_pass_rate}
                for r in rated
                if min_pass_rate is not None and (r.last_pass_rate or 0.0) < min_pass_rate
            ],
        },
        "runs": {
            "recent": len(runs),
            "failed": [
                {"run_id": r.get("run_id"), "command": r.get("command"), "status": r.get("status"), "error": r.get("error")}
                for r in failed[:5]
            ],
            "failed_count": len(failed),
        },
    }
