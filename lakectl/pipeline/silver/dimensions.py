"""The customers and products dimensions transform enriches events with and keeps in silver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.config import Settings
from lakectl.core.sql import quote_ident
from lakectl.lake import delta
from lakectl.lake.delta import is_delta_table, table_version
from lakectl.pipeline.silver import cleaning as silver
from lakectl.pipeline.silver.conflicts import ORIGIN, count_conflicts, refuse_conflicts, resolve, with_origin
from lakectl.pipeline.silver.expectations import RuleMetric
from lakectl.pipeline.silver.tables import TransformTables
from lakectl.pipeline.silver.tally import Tally

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STATE_FILE = "transform-dimensions.json"  # under <checkpoints>: the landing files merged, per dimension


def landing_fingerprints(folder: Path) -> list[list]:
    """[name, size, mtime_ns] of each landing file of a dimension: what `commit` remembers having merged."""
    files = sorted(folder.glob("*.json*")) if folder.is_dir() else []
    return [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]


def unchanged_since_merge(settings: Settings, t: TransformTables) -> bool:
    """True when no landing dimension file changed since it was merged into the silver table's current version
    (read from the files and the Delta logs, no Spark): then transform has no dimension work either."""
    from lakectl.lake.pending import latest_version

    try:
        state = json.loads((settings.storage.checkpoints_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        state = {}
    for name, handle in (("customers", t.customers), ("products", t.products)):
        files = landing_fingerprints(settings.storage.landing_dir / name)
        if not files:
            continue  # nothing to merge
        done = state.get(name, {})
        if done.get("files") != files or done.get("version") is None or done.get("version") != latest_version(handle.path):
            return False
    return True


class Dimensions:
    """customers and products: the landing JSON (cleaned) over what silver already holds. Used for
    enrichment from the start; committed to silver (MERGE, idempotent) once the first batch passed."""

    KEYS = {"customers": "customer_id", "products": "product_id"}

    def __init__(
        self,
        spark: SparkSession,
        t: TransformTables,
        landing: dict[str, DataFrame | None],
        current: dict[str, DataFrame],
        fingerprints: dict[str, list],
        state_file: Path,
    ) -> None:
        self.spark, self.t, self.landing, self.current = spark, t, landing, current
        self.fingerprints, self.state_file = fingerprints, state_file
        self.origin: dict[str, DataFrame] = {}  # the landing rows with their file and order, before resolution
        self.rule = "latest_by_arrival"

    @classmethod
    def load(cls, spark: SparkSession, settings: Settings, t: TransformTables) -> Dimensions:
        from pyspark.sql import functions as F

        landing_dir = settings.storage.landing_dir
        landing: dict[str, DataFrame | None] = {}
        current: dict[str, DataFrame] = {}
        fingerprints: dict[str, list] = {}
        origin: dict[str, DataFrame] = {}
        rule = settings.transform.dimension_conflicts
        ts = settings.transform.dimension_timestamp if rule == "latest_by_timestamp" else None
        for name, types, clean, handle in (
            ("customers", silver.CUSTOMER_TYPES, silver.clean_customers, t.customers),
            ("products", silver.PRODUCT_TYPES, silver.clean_products, t.products),
        ):
            read = [*types, *([ts] if ts and ts not in types else [])]
            ddl = ", ".join(f"{quote_ident(c)} string" for c in read)
            folder = landing_dir / name
            src = None
            key = cls.KEYS[name]
            fingerprints[name] = landing_fingerprints(folder)
            if fingerprints[name]:
                raw = spark.read.schema(ddl).option("pathGlobFilter", "*.json*").json(str(folder))
                rows = clean(with_origin(raw, F.col(ts).try_cast("timestamp") if ts else None), keep=ORIGIN, dedupe=False).persist()
                if rule == "fail":
                    refuse_conflicts(rows, key, list(types), handle.display)
                origin[name] = rows
                src = resolve(rows, key).persist()
            landing[name] = src
            schema = ", ".join(f"{quote_ident(c)} {k}" for c, k in types.items())
            existing = (
                spark.read.format("delta").load(handle.path) if is_delta_table(spark, handle.path) else spark.createDataFrame([], schema)
            )
            existing = existing.select(*types)
            current[name] = existing if src is None else src.unionByName(existing.join(src.select(key), key, "left_anti"))
        state_file = settings.storage.checkpoints_dir / STATE_FILE
        dims = cls(spark, t, landing, current, fingerprints, state_file)
        dims.origin, dims.rule = origin, rule
        return dims

    @property
    def customers(self) -> DataFrame:
        return self.current["customers"]

    @property
    def products(self) -> DataFrame:
        return self.current["products"]

    def commit(self, tally: Tally) -> None:
        """MERGE the landing dimensions into silver: insert new keys, update changed rows, leave equal ones."""
        tally.dims_loaded = True
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            state = {}
        for name, handle in (("customers", self.t.customers), ("products", self.t.products)):
            src = self.landing.get(name)
            if src is None:
                continue
            done_before = state.get(name, {})
            if done_before.get("files") == self.fingerprints[name] and done_before.get("version") == table_version(self.spark, handle.path):
                continue  # the same landing files were merged into this very table version: nothing can change
            if not delta.exists(self.spark, handle):
                delta.ensure_table(self.spark, handle, src.schema)
            tally.dims_upserted[name] = delta.merge_upsert(self.spark, handle.ref, src, self.KEYS[name])
            tally.dims_conflicts[name] = count_conflicts(self.origin[name], self.KEYS[name], src.columns)
            tally.dims_keys[name] = src.count()
            state[name] = {"files": self.fingerprints[name], "version": table_version(self.spark, handle.path)}
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(state))

    def conflict_metrics(self, tally: Tally) -> list[RuleMetric]:
        """The conflicts of the dimensions merged in this run, as ops.dq_metrics rows (rule dimension_conflicts)."""
        handles = {"customers": self.t.customers, "products": self.t.products}
        return [
            RuleMetric(handles[name].display, "dimension_conflicts", self.rule, tally.dims_keys[name], tally.dims_keys[name] - n, n)
            for name, n in tally.dims_conflicts.items()
        ]

    def close(self) -> None:
        for src in [*self.landing.values(), *self.origin.values()]:
            if src is not None:
                src.unpersist()
