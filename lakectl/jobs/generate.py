"""generate: synthetic customers, products and events as JSON-lines files in the landing folder."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lakectl.context import JobContext
from lakectl.datagen import generate
from lakectl.results import Result


class GenerateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: int = Field(100_000, ge=0)
    seed: int = 42
    start: datetime | None = None
    days: float = Field(1.0, gt=0)
    bad_fraction: float = Field(0.0, ge=0, lt=1)
    duplicate_fraction: float = Field(0.0, ge=0, lt=1)
    customers: int | None = Field(None, ge=1)
    products: int | None = Field(None, ge=1)
    out: str | None = None  # default: the configured landing folder
    file_rows: int = Field(100_000, ge=1)
    dry_run: bool = False


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = GenerateParams.model_validate(params)
    out = Path(p.out) if p.out else ctx.settings.storage.landing_dir
    if p.dry_run:
        return Result(job="generate", dry_run=True, metrics={"would_write_events": p.events, "landing": str(out)})
    start = p.start.astimezone(timezone.utc) if p.start and p.start.tzinfo else p.start
    g = generate(out, p.events, seed=p.seed, start=start, days=p.days, bad_fraction=p.bad_fraction,
                 duplicate_fraction=p.duplicate_fraction, customers=p.customers, products=p.products, file_rows=p.file_rows)
    return Result(
        job="generate",
        rows_written=g.events,
        metrics={
            "events": g.events, "valid_events": g.valid_events, "bad_records": g.bad_records,
            "duplicates": g.duplicates, "bad_by_kind": g.bad_by_kind, "event_types": g.event_types,
            "customers": g.customers, "products": g.products, "files": len(g.files), "landing": str(out),
        },
    )
