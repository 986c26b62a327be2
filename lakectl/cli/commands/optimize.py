from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, argument, option, options_from
from lakectl.jobs.params import OptimizeParams


def _split(values: list[str] | None) -> list[str]:
    """`--zorder a,b --zorder c` -> [a, b, c]."""
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]


@command(
    panel="Operations",
    examples=[
        ("lakectl optimize --dry-run", "what each table's policy would do"),
        ("lakectl optimize silver.events --zorder customer_id,event_date", "compact and Z-order one table"),
        ("lakectl optimize --vacuum --retain 7d", "compact every table, then VACUUM files older than a week"),
    ],
    exits=(1, 3, 6),
)
@options_from(
    OptimizeParams,
    tables=argument(help="Tables as schema.name (default: every configured table)."),
    zorder=option(convert=_split, help="Z-order by these columns (COL,COL)."),
    cluster_by=option(convert=_split, help="Liquid clustering columns (COL,COL; up to 4)."),
    where=option(help="Only optimize partitions matching this predicate."),
    vacuum=option(help="VACUUM after optimizing."),
    retain=option(help="VACUUM retention, e.g. 168h or 7d (default: policy, else the table's)."),
    force=option(help="Allow a retention shorter than the table's deletedFileRetentionDuration."),
    analyze=option(help="Recompute data-skipping statistics (ANALYZE ... COMPUTE DELTA STATISTICS)."),
    advise=option(help="Only recommend Z-order/clustering columns, with measured file skipping."),
    target_file_size=option(help="Target file size, e.g. 128m (default: policy, else 1g)."),
    apply_policy=option(help="With --zorder/--cluster-by, also set the policy's table properties."),
    dry_run=DRY_RUN,
)
def optimize(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Compact, Z-order or cluster tables, set their properties and VACUUM them, with a before/after report."""
    run_job(ctx, "optimize", params, json_out)
