"""Render a Result: a rich table for people (-o table / wide), one JSON document for CI (-o json,
--json), or its main table as CSV (-o csv). Numbers for people go through `fmt_value`: thousands
separators, bytes in KiB/MiB/GiB, money with two decimals, identifiers as they are. JSON and CSV
keep the raw values."""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from typing import Any

from lakectl.core.formatting import duration, fmt_value, when_short
from lakectl.core.results import Result, json_default

WIDE_COLUMNS = 100_000  # -o wide: a console this wide never wraps or cuts a table (rich sizes tables to their content)


def console_for(fmt: str = "table", *, stderr: bool = False, highlight: bool = True) -> Any:
    """The rich Console for a human output format: the terminal's width, or unlimited for wide."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=highlight, width=WIDE_COLUMNS if fmt == "wide" else None)


def render_result(result: Result, *, as_json: bool = False, fmt: str = "table") -> None:
    if as_json or fmt == "json":
        print(json.dumps(result.to_dict(), default=json_default))
        return
    if fmt == "csv":
        write_csv(*(main_table(result) or ([], [])))
        return
    from rich.text import Text

    from lakectl.cli.fit import print_pairs

    console = console_for(fmt)
    wide = fmt == "wide"
    if "columns" in result.metrics and "rows" in result.metrics:  # a query's rows
        render_rows(console, result.metrics["columns"], result.metrics["rows"], wide=wide, labels=False)
        more = f" (truncated at --limit {result.metrics.get('limit'):,})" if result.metrics.get("truncated") else ""
        console.print(f"[dim]{len(result.metrics['rows']):,} row(s) in {duration(result.duration_s)}{more}[/]")
        return
    title = f"{result.job}{' (dry run)' if result.dry_run else ''}: {result.status} in {duration(result.duration_s)}"
    print_pairs(console, _summary_rows(result), title=title, wide=wide)
    for key, value in result.metrics.items():
        if _table_like(value):
            _render_nested(console, result.job, key, value, wide=wide)
    if _uniform(result.details):  # e.g. one row per table: one table with a header
        columns = [k for k in result.details[0] if k != "job"]
        render_rows(console, columns, [[d[k] for k in columns] for d in result.details], wide=wide)
    else:
        for detail in result.details:
            _render_detail(console, detail, wide=wide)
    for warning in result.warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", warning))


_LABELS = {"rows_read": "rows read", "rows_written": "rows written", "rows_quarantined": "rows quarantined"}
_DRY_LABELS = {"rows_read": "rows to read", "rows_written": "rows to write", "rows_quarantined": "rows to quarantine"}


def label(key: str) -> str:
    """A metric's name for people: `duration_s` -> 'duration', `rows_checked` -> 'rows checked'."""
    for unit in ("_s", "_minutes"):
        if key.endswith(unit) and len(key) > len(unit):
            key = key[: -len(unit)]
            break
    return key.replace("_", " ")


def _summary_rows(result: Result) -> list[tuple[str, str]]:
    """Figures first, then the tables that got rows; a dry run speaks in the conditional and shows no after-figures."""
    rows = []
    dry = result.dry_run
    by_layer = "rows_written_by_layer" in result.metrics  # a pipeline: its per-layer figures say it better
    for key in ("rows_read", "rows_written", "rows_quarantined"):
        value = getattr(result, key)
        if by_layer and key == "rows_written":
            continue
        if value or (key == "rows_written" and not dry):
            rows.append(((_DRY_LABELS if dry else _LABELS)[key], f"{value:,}"))
    if result.tables_read:
        rows.append(("would read" if dry else "read", ", ".join(result.tables_read)))
    if result.tables_written:  # jobs list only the tables that got rows (nothing to do: none)
        rows.append(("would write" if dry else "wrote", ", ".join(result.tables_written)))
    for key, value in result.metrics.items():
        if not _table_like(value):  # per-rule metrics and the like get a table of their own
            rows.append((label(key), fmt_value(value, key)))
    return rows


def _render_detail(console: Any, detail: dict[str, Any], *, wide: bool = False) -> None:
    from lakectl.cli.fit import print_pairs

    name = detail.get("job") or detail.get("name") or ""
    pairs: list[tuple[str, str]] = []
    nested: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in detail.items():
        if key in ("job", "name", "details") or value in (None, [], {}, 0, "", False):
            continue
        if _table_like(value):
            nested.append((key, value))  # e.g. per-rule quality metrics: a table of their own reads better
            continue
        pairs.append((label(key), fmt_value(value, key)))
    print_pairs(console, pairs, title=str(name), wide=wide)
    for key, rows in nested:
        _render_nested(console, str(name), key, rows, wide=wide)


def _table_like(value: Any) -> bool:
    """A list of flat records (per-rule metrics, per-table reports): rendered as a table, not a k=v wall."""
    return isinstance(value, list) and (_uniform(value) or (len(value) == 1 and isinstance(value[0], dict)))


def _render_nested(console: Any, name: str, key: str, rows: list[dict[str, Any]], *, wide: bool = False) -> None:
    """One renderer for a result's nested records, wherever they sit (a standalone job or a pipeline's stage)."""
    # a text column with one value for every row goes into the title, to leave the width to the rest
    same = {c: v for c, v in rows[0].items() if isinstance(v, str) and len(rows) > 1 and all(r.get(c) == v for r in rows)}
    columns = [c for c in rows[0] if c not in same]
    title = f"{name} {key.replace('_', ' ')}".strip() + (f" ({fmt_value(same)})" if same else "")
    render_rows(console, columns, [[r.get(c) for c in columns] for r in rows], title=title, wide=wide)


def main_table(result: Result) -> tuple[list[str], list[list[Any]]] | None:
    """The tabular part of a result: a query's rows, else one row per detail (the union of their
    keys, in order); None when there is nothing tabular."""
    if "columns" in result.metrics and "rows" in result.metrics:
        return list(result.metrics["columns"]), [list(r) for r in result.metrics["rows"]]
    if result.details and all(isinstance(d, dict) for d in result.details):
        columns = list(dict.fromkeys(k for d in result.details for k in d))
        return columns, [[d.get(c) for c in columns] for d in result.details]
    return None


def write_csv(columns: list[str], rows: list[list[Any]]) -> None:
    """CSV on stdout: a header, then raw values (no separators or units); nested values as JSON, NULL as empty."""
    import csv

    if not columns:
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([json.dumps(v, default=json_default) if isinstance(v, (list, dict)) else "" if v is None else v for v in row])


def _uniform(details: list[Any]) -> bool:
    """Several flat dicts with the same keys."""
    return len(details) > 1 and all(
        isinstance(d, dict) and d.keys() == details[0].keys() and not any(isinstance(v, (dict, list)) for v in d.values()) for d in details
    )


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")  # what fmt_value makes of a timestamp


def render_rows(
    console: Any, columns: list[str], rows: list[list[Any]], title: str | None = None, *, wide: bool = False, labels: bool = True
) -> None:
    """A table of rows with a header, fitted to the console (lakectl.cli.fit): numbers right-aligned and never
    cut, text wrapped between words, timestamps shortened before anything is left out, nulls shown as NULL.
    `labels`: headers for people (`rows_checked` -> 'rows checked'); a query's columns keep their names."""
    from rich.text import Text

    from lakectl.cli.fit import Column, print_table

    cols = []
    for i, name in enumerate(columns):
        values = [r[i] for r in rows if r[i] is not None]
        number = bool(values) and all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values)
        timed = bool(values) and all(_TIMESTAMP.match(fmt_value(v, name)) for v in values)
        cols.append(
            Column(label(name) if labels else name, number=number, short=when_short if timed else None, wrap=not number and not timed)
        )
    cells = [
        [Text("NULL", style="dim") if v is None else Text(fmt_value(v, c)) for c, v in zip(columns, row)] for row in rows
    ]  # data is never markup
    print_table(console, cols, cells, title=title, wide=wide)
