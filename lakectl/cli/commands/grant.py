"""`lakectl grant ...`: Unity Catalog access as code — plan, apply, drift, export, show."""

from __future__ import annotations

import json
import sys
from typing import Any, List, Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import fail, output_format, state_of
from lakectl.core.results import json_default

app = typer.Typer(
    name="grant", no_args_is_help=True,
    help="Unity Catalog privileges from a policy file (configs/grants.yaml): plan, apply, drift, export, show.",
)

POLICY = typer.Option(None, "--policy", "-p", help="Policy file (default: grant.policy in the config).")
URL = typer.Option(None, "--url", help="Catalog server URL (default: grant.url in the config).")


def _run(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> Any:
    """Run the grant job; `apply` is recorded in the run ledger (ops.runs), reads are not.
    Returns the result and whether it is printed by the shared renderer (-o json, -o csv)."""
    state = state_of(ctx)
    fmt = output_format(ctx, json_out)
    as_json = fmt == "json"
    try:
        from lakectl.engine.context import JobContext
        from lakectl.config import load_settings

        settings = load_settings(state.config)
        settings.target(state.target)
        job_ctx = JobContext(settings=settings, target_name=state.target, verbose=state.verbose)
        if params["action"] in ("apply", "register") and not params.get("dry_run"):
            from lakectl.jobs import run_job

            return run_job(job_ctx, "grant", params), fmt
        from lakectl.jobs import grant as job
        from lakectl.core.results import Timer

        with Timer() as t:
            result = job.run(job_ctx, params)
        result.duration_s = t.seconds
        return result, fmt
    except typer.Exit:
        raise
    except BaseException as exc:
        fail(exc, verbose=state.verbose, as_json=as_json)


def _finish(result: Any, fmt: str, pending_exit: bool) -> None:
    if fmt == "json":
        print(json.dumps(result.to_dict(), default=json_default, ensure_ascii=False))
    elif fmt == "csv":
        from lakectl.cli.render import render_result

        render_result(result, fmt=fmt)
    for w in result.warnings:
        print(f"lakectl: warning: {w}", file=sys.stderr)
    if result.status == "failed":
        raise typer.Exit(1)
    if pending_exit and result.status == "changes":
        from lakectl.core.errors import ChangesPending

        raise typer.Exit(ChangesPending.exit_code)


def _render_plan(result: Any, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    m = result.metrics
    con = Console(highlight=False)
    con.print(f"[bold]{title}[/] {escape(m['policy'])} against {escape(m['server'])}: {m['securables']:,} securable(s) managed")
    for c in m["changes"]:
        sign, style, verb = ("-", "red", "revoke") if c["action"] == "revoke" else ("+", "green", "grant ")
        con.print(f"  [{style}]{sign} {verb} {escape(c['privilege'])}[/] on {c['securable_type']} {escape(c['securable'])} "
                  f"{'from' if sign == '-' else 'to'} {escape(c['principal'])}")
    for t in m.get("tag_changes", []):
        where = escape(t["securable"] + (f" column {t['column']}" if t["column"] else ""))
        for k, v in t["set"].items():
            con.print(f"  [green]+ tag[/] {escape(k)}={escape(v)} on {t['securable_type']} {where}")
        for k in t["unset"]:
            con.print(f"  [red]- untag[/] {escape(k)} on {t['securable_type']} {where}")
    for o in m.get("owner_changes", []):
        con.print(f"  [magenta]~ owner[/] of {o['securable_type']} {escape(o['securable'])}: {escape(str(o['from']))} -> {escape(o['to'])}")
    for c in m.get("mask_changes", []):
        _print_mask_change(con, c)
    for k in m["kept"]:
        con.print(f"  [yellow]= kept[/] {escape(', '.join(k['privileges']))} on {escape(k['securable'])} for {escape(k['principal'])} ({k['why']}: never revoked)")
    for s in m["self_lockout"]:
        con.print(f"  [bold red]! self-lockout[/] revoking your own {escape(', '.join(s['privileges']))} on {escape(s['securable'])} (apply refuses without --allow-self-lockout)")
    for o in m.get("orphaned", []):
        con.print(f"  [bold red]! orphaned[/] {escape(o)} would have no owner and nobody holding MANAGE (apply refuses without --allow-self-lockout)")
    for n in m["notes"]:
        con.print(f"  [dim]note:[/] {escape(n)}")
    if m["unsupported"]:
        con.print("[bold yellow]This server cannot hold these parts of the policy[/] (apply exits 2 unless --skip-unsupported):")
        for u in m["unsupported"]:
            con.print(f"  [yellow]~[/] {escape(u)}")
    summary = f"{m['to_add']:,} to add, {m['to_revoke']:,} to revoke, {m['unchanged']:,} unchanged"
    if "changes_applied" in m:
        summary = f"{m['changes_applied']:,} change(s) applied ({summary} before apply)"
    con.print(f"[bold]{summary}[/] in {result.duration_s:.2f}s")


def _print_mask_change(con: Any, c: dict[str, Any]) -> None:
    from rich.markup import escape

    on = f"table {escape(c['securable'])}" + (f" column {escape(c['column'])}" if c["column"] is not None else "")
    what = "mask" if c["kind"].startswith("mask") else "row filter"
    if c["function"] is None:
        con.print(f"  [red]- drop {what}[/] {escape(str(c['was']))} on {on}")
    else:
        args = f" ({escape(', '.join(c['columns']))})" if c["columns"] else ""
        was = f" (was {escape(c['was'])})" if c["was"] else ""
        con.print(f"  [green]+ set {what}[/] {escape(c['function'])}{args} on {on}{was}")


@app.command("plan")
def plan(
    ctx: typer.Context,
    policy: Optional[str] = POLICY,
    url: Optional[str] = URL,
    out: Optional[str] = typer.Option(None, "--out", help="Save the plan for `grant apply --plan FILE`."),
    json_out: bool = JSON,
) -> None:
    """Show grants to add and to revoke (revokes are always shown); exit 8 when there are changes, 0 when none."""
    result, fmt = _run(ctx, {"action": "plan", "policy": policy, "url": url, "out": out}, json_out)
    if fmt in ("table", "wide"):
        _render_plan(result, "plan")
    _finish(result, fmt, pending_exit=True)


@app.command("apply")
def apply(
    ctx: typer.Context,
    policy: Optional[str] = POLICY,
    url: Optional[str] = URL,
    plan_file: Optional[str] = typer.Option(None, "--plan", help="Apply this saved plan; refuse (exit 6) if the server changed since."),
    skip_unsupported: bool = typer.Option(False, "--skip-unsupported", help="Apply although parts of the policy cannot be held by the server."),
    allow_self_lockout: bool = typer.Option(False, "--allow-self-lockout", help="Allow revoking your own MANAGE (dangerous)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Apply the plan (recorded in ops.runs); a second apply makes no changes. --dry-run is `grant plan`."""
    params = {"action": "apply", "policy": policy, "url": url, "plan_file": plan_file, "skip_unsupported": skip_unsupported,
              "allow_self_lockout": allow_self_lockout, "dry_run": dry_run}
    result, fmt = _run(ctx, params, json_out)
    if fmt in ("table", "wide"):
        _render_plan(result, "apply" if not dry_run else "plan (dry run)")
    _finish(result, fmt, pending_exit=dry_run)


@app.command("drift")
def drift(ctx: typer.Context, policy: Optional[str] = POLICY, url: Optional[str] = URL, json_out: bool = JSON) -> None:
    """Grants changed on the server outside the policy (managed securables only); exit 8 on drift."""
    result, fmt = _run(ctx, {"action": "drift", "policy": policy, "url": url}, json_out)
    if fmt in ("table", "wide"):
        from rich.console import Console
        from rich.markup import escape

        con = Console(highlight=False)
        m = result.metrics
        for c in m["out_of_policy"]:
            con.print(f"[red]out of policy:[/] {escape(c['principal'])} holds {escape(c['privilege'])} on {c['securable_type']} {escape(c['securable'])}")
        for c in m["missing"]:
            con.print(f"[yellow]missing:[/] {escape(c['principal'])} lacks {escape(c['privilege'])} on {c['securable_type']} {escape(c['securable'])}")
        for o in m.get("owner_changes", []):
            con.print(f"[yellow]owner:[/] {o['securable_type']} {escape(o['securable'])} is owned by {escape(str(o['from']))}, the policy says {escape(o['to'])}")
        for c in m.get("mask_changes", []):
            _print_mask_change(con, c)
        con.print(f"[bold]{'drift' if result.status == 'changes' else 'no drift'}:[/] {len(m['out_of_policy']):,} out-of-policy grant(s), "
                  f"{len(m['missing']):,} missing, {m['unchanged']:,} as the policy says ({m['securables']:,} securable(s))")
    _finish(result, fmt, pending_exit=True)


@app.command("export")
def export(
    ctx: typer.Context,
    securables: Optional[List[str]] = typer.Argument(None, help="catalog, catalog.schema, catalog.schema.table or TYPE:NAME (default: every catalog)."),
    url: Optional[str] = URL,
    out: Optional[str] = typer.Option(None, "--out", help="Write the policy here (default: stdout)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Write the server's current grants as a policy file (to adopt lakectl on an existing catalog)."""
    result, fmt = _run(ctx, {"action": "export", "url": url, "out": out, "securables": list(securables or []), "dry_run": dry_run}, json_out)
    if fmt in ("table", "wide"):
        if out and not dry_run:
            print(f"wrote {out}: {result.metrics['securables']:,} securable(s), {result.metrics['principals']:,} principal(s)", file=sys.stderr)
        else:
            sys.stdout.write(result.metrics["policy_yaml"])
    _finish(result, fmt, pending_exit=False)


@app.command("show")
def show(ctx: typer.Context, securable: str = typer.Argument(..., help="catalog, catalog.schema, catalog.schema.table or TYPE:NAME."),
         url: Optional[str] = URL, json_out: bool = JSON) -> None:
    """Effective privileges per principal on one securable; inherited ones name their catalog or schema."""
    result, fmt = _run(ctx, {"action": "show", "url": url, "securables": [securable]}, json_out)
    if fmt in ("table", "wide"):
        from rich.markup import escape
        from rich.table import Table

        from lakectl.cli.render import console_for

        table = Table(title=f"{result.metrics['securable']} (owner {result.metrics['owner']})", title_justify="left")
        for c in ("principal", "privilege", "inherited from"):
            table.add_column(c, overflow="fold")
        for r in result.details:
            table.add_row(escape(r["principal"]), r["privilege"], escape(r["inherited_from"] or ""))
        console_for(fmt).print(table)
    _finish(result, fmt, pending_exit=False)


@app.command("register")
def register(
    ctx: typer.Context,
    tables: Optional[List[str]] = typer.Argument(None, help="Tables as schema.name (default: every configured table)."),
    url: Optional[str] = URL,
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Register lakectl's Delta tables in storage.catalog as EXTERNAL tables at their paths, so grants can name them."""
    result, fmt = _run(ctx, {"action": "register", "url": url, "securables": list(tables or []), "dry_run": dry_run}, json_out)
    if fmt in ("table", "wide"):
        from rich.console import Console
        from rich.markup import escape

        con = Console(highlight=False)
        for r in result.details:
            con.print(f"  {r['action']:<12} {escape(r['table'])}  {escape(r['location'])} {escape(r['detail'])}")
        m = result.metrics
        con.print(f"[bold]{m['created'] + m['would_create']:,} {'to register' if result.dry_run else 'registered'}[/], {m['exists']:,} already there, "
                  f"{m['missing']:,} not written yet, {m['conflict']:,} registered elsewhere, {m['failed']:,} failed")
    _finish(result, fmt, pending_exit=False)
