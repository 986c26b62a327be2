"""The one place that quotes identifiers and literals and builds SQL text.

Every table, column or principal name that comes from config or flags reaches SQL through
`quote_ident`, `quote_name` or `table_ref`; nothing else in lakectl formats names into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote one identifier part with backticks, doubling embedded backticks."""
    if not isinstance(name, str) or name == "":
        raise ValueError("an identifier must be a non-empty string")
    if "\x00" in name:
        raise ValueError("an identifier must not contain NUL")
    return "`" + name.replace("`", "``") + "`"


def quote_name(*parts: str) -> str:
    """Quote a multi-part name: quote_name('main', 'bronze', 'events') -> `main`.`bronze`.`events`."""
    return ".".join(quote_ident(p) for p in parts if p is not None)


def quote_ansi_ident(name: str) -> str:
    """Quote one identifier part ANSI-style (DuckDB): double quotes, doubling embedded ones."""
    quote_ident(name)  # the same checks
    return '"' + name.replace('"', '""') + '"'


def quote_columns(columns: Iterable[str]) -> str:
    return ", ".join(quote_ident(c) for c in columns)


def quote_string(value: str) -> str:
    """A Spark SQL string literal, backslashes and single quotes escaped. Spark SQL only: DuckDB and ANSI SQL
    read a backslash literally and escape a quote by doubling it, so this must not build SQL for them
    (lakectl's DuckDB SQL takes no literal from input: tables are views named with quote_ansi_ident)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ansi_string(value: str) -> str:
    """An ANSI SQL string literal (DuckDB, DataFusion): a quote doubled, a backslash read literally."""
    return "'" + value.replace("'", "''") + "'"


def path_ref(path: str) -> str:
    """A path-addressed Delta table: delta.`/some/path`."""
    return "delta." + quote_ident(path)


def days_predicate_sql(column: str, days: Iterable[date], *, hourly: bool) -> str:
    """Rows of exactly these days: `col IN (DATE'...')`, or for an hour column one half-open range per
    day, so Delta can skip files on the column's stats."""
    col = quote_ident(column)
    if not hourly:
        return f"{col} IN (" + ", ".join(f"DATE'{d.isoformat()}'" for d in days) + ")"
    return " OR ".join(
        f"({col} >= TIMESTAMP'{d.isoformat()} 00:00:00' AND {col} < TIMESTAMP'{(d + timedelta(days=1)).isoformat()} 00:00:00')"
        for d in days
    )


def is_simple_identifier(name: str) -> bool:
    return bool(_SIMPLE.match(name))


# --- maintenance statements (optimize) -------------------------------------------------------------
# `ref` is always a reference already built here (path_ref / quote_name); columns are quoted here;
# `where` is a user-written SQL predicate (an expression, like an expectation), passed through as text.


def optimize_sql(ref: str, *, where: str | None = None, zorder_by: Iterable[str] = ()) -> str:
    cols = list(zorder_by)
    text = f"OPTIMIZE {ref}"
    if where:
        text += f" WHERE {where}"
    if cols:
        text += f" ZORDER BY ({quote_columns(cols)})"
    return text


def cluster_by_sql(ref: str, columns: Iterable[str]) -> str:
    cols = list(columns)
    return f"ALTER TABLE {ref} CLUSTER BY ({quote_columns(cols)})" if cols else f"ALTER TABLE {ref} CLUSTER BY NONE"


def vacuum_sql(ref: str, *, retain_hours: float | None = None, dry_run: bool = False) -> str:
    text = f"VACUUM {ref}"
    if retain_hours is not None:
        text += f" RETAIN {float(retain_hours):g} HOURS"
    return text + (" DRY RUN" if dry_run else "")


def set_properties_sql(ref: str, properties: dict[str, str]) -> str:
    pairs = ", ".join(f"{quote_string(k)} = {quote_string(str(v))}" for k, v in properties.items())
    return f"ALTER TABLE {ref} SET TBLPROPERTIES ({pairs})"


def describe_detail_sql(ref: str) -> str:
    return f"DESCRIBE DETAIL {ref}"


def analyze_sql(ref: str) -> str:
    """Recompute Delta's per-file data-skipping statistics (after changing the stats columns)."""
    return f"ANALYZE TABLE {ref} COMPUTE DELTA STATISTICS"


def bloom_filter_sql(ref: str, columns: Iterable[str], *, fpp: float = 0.1, num_items: int = 50_000_000) -> str:
    """Databricks only: CREATE BLOOMFILTER INDEX ON TABLE ... FOR COLUMNS(c OPTIONS (fpp=..., numItems=...))."""
    opts = f"OPTIONS (fpp={float(fpp):g}, numItems={int(num_items)})"
    cols = ", ".join(f"{quote_ident(c)} {opts}" for c in columns)
    return f"CREATE BLOOMFILTER INDEX ON TABLE {ref} FOR COLUMNS({cols})"


# --- Unity Catalog tags (grant, Databricks) -------------------------------------------------------
# Names are quoted here; tag keys and values are string literals; the tag read binds names as :markers.

_TAG_OBJECT = {"catalog": "CATALOG", "schema": "SCHEMA", "table": "TABLE", "volume": "VOLUME"}
_TAG_VIEWS = {
    "catalog": ("catalog_tags", ("catalog_name",)),
    "schema": ("schema_tags", ("catalog_name", "schema_name")),
    "table": ("table_tags", ("catalog_name", "schema_name", "table_name")),
    "volume": ("volume_tags", ("catalog_name", "schema_name", "volume_name")),
}


def unity_tags_select(securable_type: str, name: tuple[str, ...]) -> tuple[str, list[tuple[str, str]]]:
    """A statement reading (column_name, tag_name, tag_value) rows of one securable (column_name NULL for
    the securable's own tags; a table's column tags too), and its named parameters."""
    view, keys = _TAG_VIEWS[securable_type]
    where = " AND ".join(f"{k} = :p{i}" for i, k in enumerate(keys))
    params = [(f"p{i}", part) for i, part in enumerate(name)]
    sql = f"SELECT CAST(NULL AS STRING) AS column_name, tag_name, tag_value FROM system.information_schema.{view} WHERE {where}"
    if securable_type == "table":
        sql += f" UNION ALL SELECT column_name, tag_name, tag_value FROM system.information_schema.column_tags WHERE {where}"
    return sql, params


def _tag_target(securable_type: str, name: tuple[str, ...], column: str | None) -> str:
    target = f"ALTER {_TAG_OBJECT[securable_type]} {quote_name(*name)}"
    if column is not None:
        if securable_type != "table":
            raise ValueError("column tags exist on tables only")
        target += f" ALTER COLUMN {quote_ident(column)}"
    return target


def unity_set_tags(securable_type: str, name: tuple[str, ...], column: str | None, tags: dict[str, str]) -> str:
    """ALTER TABLE `c`.`s`.`t` [ALTER COLUMN `col`] SET TAGS ('k' = 'v', ...)."""
    pairs = ", ".join(f"{quote_string(k)} = {quote_string(v)}" for k, v in tags.items())
    return f"{_tag_target(securable_type, name, column)} SET TAGS ({pairs})"


def unity_unset_tags(securable_type: str, name: tuple[str, ...], column: str | None, keys: list[str]) -> str:
    return f"{_tag_target(securable_type, name, column)} UNSET TAGS ({', '.join(quote_string(k) for k in keys)})"


def unity_set_column_mask(table: tuple[str, ...], column: str, function: tuple[str, ...], using: Sequence[str] = ()) -> str:
    """ALTER TABLE `c`.`s`.`t` ALTER COLUMN `col` SET MASK `c`.`s`.`fn` [USING COLUMNS (`a`, ...)]."""
    text = f"ALTER TABLE {quote_name(*table)} ALTER COLUMN {quote_ident(column)} SET MASK {quote_name(*function)}"
    return text + (f" USING COLUMNS ({quote_columns(using)})" if using else "")


def unity_drop_column_mask(table: tuple[str, ...], column: str) -> str:
    return f"ALTER TABLE {quote_name(*table)} ALTER COLUMN {quote_ident(column)} DROP MASK"


def unity_set_row_filter(table: tuple[str, ...], function: tuple[str, ...], columns: Sequence[str]) -> str:
    """ALTER TABLE `c`.`s`.`t` SET ROW FILTER `c`.`s`.`fn` ON (`col`, ...) (ON () for a function of no column)."""
    return f"ALTER TABLE {quote_name(*table)} SET ROW FILTER {quote_name(*function)} ON ({quote_columns(columns)})"


def unity_drop_row_filter(table: tuple[str, ...]) -> str:
    return f"ALTER TABLE {quote_name(*table)} DROP ROW FILTER"


def describe_history_sql(ref: str, *, limit: int | None = None) -> str:
    return f"DESCRIBE HISTORY {ref}" + (f" LIMIT {int(limit)}" if limit is not None else "")


def columns_probe_sql(ref: str) -> str:
    """Reads no rows: only the result schema (the table's columns)."""
    return f"SELECT * FROM {ref} LIMIT 0"


# --- table creation and MERGE (lakectl.lake.delta) ----------------------------------------------------------
# `ref` is a table reference and `view` a temporary view name, both already quoted here.


def create_table_sql(
    ref: str, view: str, *, partition_by: Iterable[str] = (), properties: dict[str, str] | None = None, location: str | None = None
) -> str:
    """CREATE TABLE IF NOT EXISTS ref USING DELTA [PARTITIONED BY] [LOCATION] [TBLPROPERTIES] AS SELECT * FROM view
    (the view is empty: it only carries the schema, nested types included)."""
    parts = list(partition_by)
    text = f"CREATE TABLE IF NOT EXISTS {ref} USING DELTA"
    if parts:
        text += f" PARTITIONED BY ({quote_columns(parts)})"
    if location:
        text += f" LOCATION {quote_string(location)}"
    if properties:
        text += " TBLPROPERTIES (" + ", ".join(f"{quote_string(k)} = {quote_string(str(v))}" for k, v in properties.items()) + ")"
    return text + f" AS SELECT * FROM {view}"


def merge_sql(ref: str, view: str, key: str | Sequence[str], *, update_columns: Iterable[str] = (), evolve_schema: bool = False) -> str:
    """MERGE INTO ref t USING view s ON t.key = s.key [AND ...]: insert new keys; with `update_columns`,
    also update matched rows where one of those columns differs (NULL-safe)."""
    keys = [key] if isinstance(key, str) else list(key)
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    text = "MERGE WITH SCHEMA EVOLUTION INTO" if evolve_schema else "MERGE INTO"
    text += f" {ref} t USING {view} s ON {on}"
    cols = list(update_columns)
    if cols:
        changed = " OR ".join(f"NOT (t.{quote_ident(c)} <=> s.{quote_ident(c)})" for c in cols)
        text += f" WHEN MATCHED AND ({changed}) THEN UPDATE SET *"
    return text + " WHEN NOT MATCHED THEN INSERT *"


_COLUMN_TYPE = re.compile(r"^[a-z]+(<[a-z, <>]+>)?$")


def add_columns_sql(ref: str, columns: Sequence[tuple[str, str]]) -> str:
    """ALTER TABLE ref ADD COLUMNS (`name` type, ...): `type` a simple Spark type name (string, timestamp, array<string>)."""
    for _, kind in columns:
        if not _COLUMN_TYPE.match(kind):
            raise ValueError(f"not a simple column type: {kind!r}")
    return f"ALTER TABLE {ref} ADD COLUMNS (" + ", ".join(f"{quote_ident(c)} {k}" for c, k in columns) + ")"


def update_matched_sql(ref: str, view: str, keys: Sequence[str], *, set_columns: Sequence[str], changed: Sequence[str]) -> str:
    """MERGE INTO ref t USING view s ON t.key <=> s.key [AND ...] WHEN MATCHED AND one of `changed` differs
    THEN UPDATE SET the `set_columns` only: rows are never inserted (NULL-safe key comparison)."""
    on = " AND ".join(f"t.{quote_ident(k)} <=> s.{quote_ident(k)}" for k in keys)
    differs = " OR ".join(f"NOT (t.{quote_ident(c)} <=> s.{quote_ident(c)})" for c in changed)
    sets = ", ".join(f"t.{quote_ident(c)} = s.{quote_ident(c)}" for c in set_columns)
    return f"MERGE INTO {ref} t USING {view} s ON {on} WHEN MATCHED AND ({differs}) THEN UPDATE SET {sets}"


# --- scoring through a Databricks serving endpoint (score --via ai_query) -----------------------------


def ai_query_scores_sql(endpoint: str, view: str, *, key: str = "event_id", text: str = "review_text", score: str = "score") -> str:
    """SELECT `key`, ai_query('endpoint', `text`, returnType => 'DOUBLE') AS `score` FROM view: the endpoint
    name is a string literal (quote_string), the columns identifiers, `view` a name already quoted here."""
    if not isinstance(endpoint, str) or not endpoint or "\x00" in endpoint:
        raise ValueError("an endpoint name must be a non-empty string without NUL")
    call = f"ai_query({quote_string(endpoint)}, {quote_ident(text)}, returnType => 'DOUBLE')"
    return f"SELECT {quote_ident(key)}, {call} AS {quote_ident(score)} FROM {view}"


# Unity Catalog's lineage system tables (Databricks): table and column lineage of the last `days` days.
TABLE_LINEAGE = ("system", "access", "table_lineage")
COLUMN_LINEAGE = ("system", "access", "column_lineage")


def _names_in(column: str, names: Sequence[str]) -> str:
    return f"{quote_ident(column)} IN ({', '.join(quote_string(n) for n in names)})" if names else "FALSE"


def table_lineage_sql(*, targets: Sequence[str] = (), sources: Sequence[str] = (), days: int = 365) -> str:
    """Edges into `targets` and out of `sources`, one row per (source, target, entity) with its latest event."""
    return (
        "SELECT source_table_full_name AS source, target_table_full_name AS target, entity_type, entity_id, "
        "max_by(entity_run_id, event_time) AS run_id, max(event_time) AS at "
        f"FROM {quote_name(*TABLE_LINEAGE)} "
        f"WHERE event_date >= date_sub(current_date(), {int(days)}) "
        f"AND ({_names_in('target_table_full_name', targets)} OR {_names_in('source_table_full_name', sources)}) "
        "GROUP BY source_table_full_name, target_table_full_name, entity_type, entity_id"
    )


def column_lineage_sql(tables: Sequence[str], *, days: int = 365) -> str:
    """The column edges whose source or target is one of `tables`."""
    return (
        "SELECT DISTINCT source_table_full_name AS source, source_column_name AS source_column, "
        "target_table_full_name AS target, target_column_name AS target_column "
        f"FROM {quote_name(*COLUMN_LINEAGE)} "
        f"WHERE event_date >= date_sub(current_date(), {int(days)}) "
        f"AND ({_names_in('target_table_full_name', tables)} OR {_names_in('source_table_full_name', tables)})"
    )
