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
from lakectl.pipeline.silver.tables import TransformTables
from lakectl.pipeline.silver.tally import Tally

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


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

    @classmethod
    def load(cls, spark: SparkSession, settings: Settings, t: TransformTables) -> Dimensions:
        landing_dir = settings.storage.landing_dir
        landing: dict[str, DataFrame | None] = {}
        current: dict[str, DataFrame] = {}
        fingerprints: dict[str, list] = {}
        for name, types, clean, handle in (
            ("customers", silver.CUSTOMER_TYPES, silver.clean_customers, t.customers),
            ("products", silver.PRODUCT_TYPES, silver.clean_products, t.products),
        ):
            ddl = ", ".join(f"{quote_ident(c)} string" for c in types)
            folder = landing_dir / name
            src = None
            files = sorted(folder.glob("*.json*")) if folder.is_dir() else []
            fingerprints[name] = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]
            if files:
                src = clean(spark.read.schema(ddl).option("pathGlobFilter", "*.json*").json(str(folder))).persist()
            landing[name] = src
            key = cls.KEYS[name]
            schema = ", ".join(f"{quote_ident(c)} {k}" for c, k in types.items())
            existing = (
                spark.read.format("delta").load(handle.path) if is_delta_table(spark, handle.path) else spark.createDataFrame([], schema)
            )
            existing = existing.select(*types)
            current[name] = existing if src is None else src.unionByName(existing.join(src.select(key), key, "left_anti"))
        state_file = settings.storage.checkpoints_dir / "transform-dimensions.json"
        return cls(spark, t, landing, current, fingerprints, state_file)

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
            state[name] = {"files": self.fingerprints[name], "version": table_version(self.spark, handle.path)}
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(state))

    def close(self) -> None:
        for src in self.landing.values():
            if src is not None:
                src.unpersist()
