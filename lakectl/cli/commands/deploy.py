from __future__ import annotations

import json
from typing import Any

import typer

from lakectl.cli.boundary import guarded
from lakectl.cli.help import command
from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import State

_MARK = {"create": "[green]+ create[/]", "update": "[yellow]~ update[/]", "unchanged": "[dim]= unchanged[/]", "delete": "[red]- delete[/]"}


@command(
    panel="Deployment",
    examples=[
        ("lakectl --target prod deploy --dry-run", "the jobs that would change (exit 8 if any)"),
        ("lakectl deploy --dry-run --crontab", "local targets: the schedules as crontab lines"),
    ],
    exits=(1, 4, 8),
)
def deploy(
    ctx: typer.Context,
    destroy: bool = typer.Option(False, "--destroy", help="Remove every job this project deployed."),
    crontab: bool = typer.Option(False, "--crontab", help="Local targets: print the schedules as crontab lines."),
    bundle: str | None = typer.Option(
        None, "--bundle", metavar="DIR", help="Write the schedules as a Databricks Asset Bundle in DIR instead (databricks bundle deploy)."
    ),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Put the config's `schedules:` on a Databricks target as jobs (create / update / delete), idempotently.

    `--dry-run` exits 8 when there are changes to apply (a CI gate), as `grant plan` does. `--bundle DIR`
    writes the same jobs as an Asset Bundle (databricks.yml, resources/, dist/) and touches no workspace."""
    if bundle is not None:
        _bundle(ctx, bundle, dry_run=dry_run, destroy=destroy, json_out=json_out)
        return

    def plan(state: State) -> tuple[str, list[Any], list[str], str, list[str]]:
        """(target, changes, files uploaded, the deployed config's action, crontab lines)."""
        from lakectl.config import DatabricksTarget, load_settings
        from lakectl.core.errors import UsageError
        from lakectl.deploy.plan import Change

        settings = load_settings(state.config)
        target_name = state.target or settings.default_target
        target = settings.target(target_name)
        if isinstance(target, DatabricksTarget):
            if crontab:
                raise UsageError("--crontab is for local targets", "on Databricks the schedules become jobs")
            from lakectl.deploy.workspace import plan_and_apply

            outcome = plan_and_apply(settings, target_name, target, dry_run=dry_run, destroy=destroy)
            return target_name, outcome.changes, outcome.uploaded, outcome.config, []
        if not dry_run:
            raise UsageError(
                f"target {target_name!r} has no scheduler to deploy to",
                "print crontab lines with `lakectl deploy --dry-run --crontab` and install them with `crontab -e`",
            )
        from lakectl.deploy.cron import crontab_lines
        from lakectl.deploy.spec import check_jobs, job_name

        check_jobs(settings)
        changes = [] if destroy else [Change("create", k, job_name(settings, k)) for k in settings.schedules]
        return target_name, changes, [], "unchanged", crontab_lines(settings, target_name) if crontab and not destroy else []

    (target_name, changes, uploaded, config_action, lines), fmt = guarded(ctx, json_out, plan)
    from lakectl.deploy.plan import summary

    counts = summary(changes)
    pending = counts["create"] + counts["update"] + counts["delete"] + (config_action != "unchanged")
    if fmt == "json":
        print(
            json.dumps(
                {
                    "target": target_name,
                    "dry_run": dry_run,
                    "destroy": destroy,
                    "summary": counts,
                    "changes": [c.to_dict() for c in changes],
                    "config": config_action,
                    "uploaded": uploaded,
                    "crontab": lines,
                }
            )
        )
        _gate(dry_run, pending)
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for c in changes:
        fields = f" ({', '.join(c.fields)})" if c.fields else ""
        job = f" job {c.job_id}" if c.job_id else ""
        console.print(f"{_MARK[c.action]} {escape(c.name)}{job}{fields}", highlight=False)
    if config_action != "unchanged":
        console.print(f"{_MARK[config_action]} the deployed config file", highlight=False)
    verb = "would change" if dry_run else "changed"
    jobs_changed = counts["create"] + counts["update"] + counts["delete"]
    console.print(f"[bold]{escape(target_name)}[/]: {verb} {jobs_changed:,} job(s); {counts['unchanged']:,} unchanged", highlight=False)
    for line in lines:
        print(line)
    _gate(dry_run, pending)


def _gate(dry_run: bool, pending: int) -> None:
    if dry_run and pending:
        from lakectl.core.errors import ChangesPending

        raise typer.Exit(ChangesPending.exit_code)


def _bundle(ctx: typer.Context, directory: str, *, dry_run: bool, destroy: bool, json_out: bool) -> None:
    from pathlib import Path

    def plan(state: State) -> tuple[str, list[str], list[str]]:
        from lakectl.config import DatabricksTarget, load_settings
        from lakectl.core.errors import UsageError
        from lakectl.deploy.bundle import bundle_for, write
        from lakectl.runners.databricks.wheel import build_wheel

        if destroy:
            raise UsageError("--bundle cannot be combined with --destroy", "remove a bundle's jobs with `databricks bundle destroy`")
        settings = load_settings(state.config)
        target_name = state.target or settings.default_target
        target = settings.target(target_name)
        if not isinstance(target, DatabricksTarget):
            raise UsageError(
                f"--bundle needs a Databricks target ({target_name!r} is {target.kind})", "pass --target <a databricks target>"
            )
        made = bundle_for(settings, target_name, target, build_wheel(), Path(directory))
        files = sorted(made.files) if dry_run else write(made)
        return target_name, files, sorted(made.jobs)

    (target_name, files, jobs), fmt = guarded(ctx, json_out, plan)
    if fmt == "json":
        print(json.dumps({"target": target_name, "dry_run": dry_run, "bundle": directory, "files": files, "jobs": jobs}))
        return
    verb = "would write" if dry_run else "wrote"
    for f in files:
        print(f"{directory.rstrip('/')}/{f}")
    print(f"{target_name}: {verb} a bundle of {len(jobs)} job(s) in {directory}; deploy it with `databricks bundle deploy`")
