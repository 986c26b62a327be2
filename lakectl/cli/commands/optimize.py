from __future__ import annotations

from typing import List, Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


def _split(values: Optional[List[str]]) -> list[str]:
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]


def optimize(
    ctx: typer.Context,
    tables: Optional[List[str]] = typer.Argument(None, help="Tables as schema.name (default: every configured table)."),
    zorder: Optional[List[str]] = typer.Option(None, "--zorder", help="Z-order by these columns (COL,COL)."),
    cluster_by: Optional[List[str]] = typer.Option(None, "--cluster-by", help="Liquid clustering columns (COL,COL; up to 4)."),
    where: Optional[str] = typer.Option(None, "--where", help="Only optimize partitions matching this predicate."),
    vacuum: bool = typer.Option(False, "--vacuum", help="VACUUM after optimizing."),
    retain: Optional[str] = typer.Option(None, "--retain", help="VACUUM retention, e.g. 168h or 7d (default: policy, else the table's)."),
    force: bool = typer.Option(False, "--force", help="Allow a retention shorter than the table's deletedFileRetentionDuration."),
    analyze: bool = typer.Option(False, "--analyze", help="Recompute data-skipping statistics (ANALYZE ... COMPUTE DELTA STATISTICS)."),
    advise: bool = typer.Option(False, "--advise", help="Only recommend Z-order/clustering columns, with measured file skipping."),
    target_file_size: Optional[str] = typer.Option(None, "--target-file-size", help="Target file size, e.g. 128m (default: policy, else 1g)."),
    apply_policy: bool = typer.Option(False, "--apply-policy", help="With --zorder/--cluster-by, also set the policy's table properties."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Compact, Z-order or cluster tables, set their properties and VACUUM them, with a before/after report."""
    execute(ctx, "optimize", {
        "tables": list(tables or []), "zorder": _split(zorder), "cluster_by": _split(cluster_by), "where": where,
        "vacuum": vacuum, "retain": retain, "force": force, "analyze": analyze, "advise": advise,
        "target_file_size": target_file_size, "apply_policy": apply_policy, "dry_run": dry_run,
    }, json_out=json_out)
