"""`lakectl grant ...`: Unity Catalog access as code — plan, apply, drift, export, show."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.params import DRY_RUN, argument, option, options_from
from lakectl.jobs.params import GrantParams

app = typer.Typer(
    name="grant",
    no_args_is_help=True,
    help="Unity Catalog privileges from a policy file (configs/grants.yaml): plan, apply, drift, export, show.",
)

POLICY = option("-p", help="Policy file (default: grant.policy in the config).")
URL = option(help="Catalog server URL (default: grant.url in the config).")


def _run(
    ctx: typer.Context, params: dict[str, Any], json_out: bool, render: Callable[[Any, str], None], *, changes_exit: bool = False
) -> None:
    """The grant job, in this process whatever the target; `apply` and `register` are recorded in the run ledger
    (ops.runs), reads and dry runs are not. `render` prints -o table / wide; warnings go to stderr."""
    writes = params["action"] in ("apply", "register") and not params.get("dry_run")
    run_job(
        ctx, "grant", params, json_out, remote=False, progress="none", tracked=writes, present=_present(render), changes_exit=changes_exit
    )


def _present(render: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def present(result: Any, fmt: str) -> None:
        if fmt == "json":
            from lakectl.core.results import json_default

            print(json.dumps(result.to_dict(), default=json_default, ensure_ascii=False))
        elif fmt == "csv":
            from lakectl.cli.render import render_result

            render_result(result, fmt=fmt)
        else:
            render(result, fmt)
        for w in result.warnings:
            print(f"lakectl: warning: {w}", file=sys.stderr)

    return present


def _render_plan(result: Any, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    m = result.metrics
    con = Console(highlight=False)
    con.print(f"[bold]{title}[/] {escape(m['policy'])} against {escape(m['server'])}: {m['securables']:,} securable(s) managed")
    for c in m["changes"]:
        sign, style, verb = ("-", "red", "revoke") if c["action"] == "revoke" else ("+", "green", "grant ")
        con.print(
            f"  [{style}]{sign} {verb} {escape(c['privilege'])}[/] on {c['securable_type']} {escape(c['securable'])} "
            f"{'from' if sign == '-' else 'to'} {escape(c['principal'])}"
        )
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
        con.print(
            f"  [yellow]= kept[/] {escape(', '.join(k['privileges']))} on {escape(k['securable'])} for {escape(k['principal'])} ({k['why']}: never revoked)"
        )
    for s in m["self_lockout"]:
        con.print(
            f"  [bold red]! self-lockout[/] revoking your own {escape(', '.join(s['privileges']))} on {escape(s['securable'])} (apply refuses without --allow-self-lockout)"
        )
    for o in m.get("orphaned", []):
        con.print(
            f"  [bold red]! orphaned[/] {escape(o)} would have no owner and nobody holding MANAGE (apply refuses without --allow-self-lockout)"
        )
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
@options_from(GrantParams, policy=POLICY, url=URL, out=option(help="Save the plan for `grant apply --plan FILE`."))
def plan(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Show grants to add and to revoke (revokes are always shown); exit 8 when there are changes, 0 when none."""
    _run(ctx, {"action": "plan", **params}, json_out, lambda result, fmt: _render_plan(result, "plan"), changes_exit=True)


@app.command("apply")
@options_from(
    GrantParams,
    policy=POLICY,
    url=URL,
    plan_file=option("--plan", help="Apply this saved plan; refuse (exit 6) if the server changed since."),
    skip_unsupported=option(help="Apply although parts of the policy cannot be held by the server."),
    allow_self_lockout=option(help="Allow revoking your own MANAGE (dangerous)."),
    dry_run=DRY_RUN,
)
def apply(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Apply the plan (recorded in ops.runs); a second apply makes no changes. --dry-run is `grant plan`."""
    dry_run = params["dry_run"]
    _run(
        ctx,
        {"action": "apply", **params},
        json_out,
        lambda result, fmt: _render_plan(result, "apply" if not dry_run else "plan (dry run)"),
        changes_exit=dry_run,
    )


@app.command("drift")
@options_from(GrantParams, policy=POLICY, url=URL)
def drift(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Grants changed on the server outside the policy (managed securables only); exit 8 on drift."""
    _run(ctx, {"action": "drift", **params}, json_out, _render_drift, changes_exit=True)


def _render_drift(result: Any, fmt: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    con = Console(highlight=False)
    m = result.metrics
    for c in m["out_of_policy"]:
        con.print(
            f"[red]out of policy:[/] {escape(c['principal'])} holds {escape(c['privilege'])} on {c['securable_type']} {escape(c['securable'])}"
        )
    for c in m["missing"]:
        con.print(
            f"[yellow]missing:[/] {escape(c['principal'])} lacks {escape(c['privilege'])} on {c['securable_type']} {escape(c['securable'])}"
        )
    for o in m.get("owner_changes", []):
        con.print(
            f"[yellow]owner:[/] {o['securable_type']} {escape(o['securable'])} is owned by {escape(str(o['from']))}, the policy says {escape(o['to'])}"
        )
    for c in m.get("mask_changes", []):
        _print_mask_change(con, c)
    con.print(
        f"[bold]{'drift' if result.status == 'changes' else 'no drift'}:[/] {len(m['out_of_policy']):,} out-of-policy grant(s), "
        f"{len(m['missing']):,} missing, {m['unchanged']:,} as the policy says ({m['securables']:,} securable(s))"
    )


@app.command("export")
@options_from(
    GrantParams,
    securables=argument(help="catalog, catalog.schema, catalog.schema.table or TYPE:NAME (default: every catalog)."),
    url=URL,
    out=option(help="Write the policy here (default: stdout)."),
    dry_run=DRY_RUN,
)
def export(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Write the server's current grants as a policy file (to adopt lakectl on an existing catalog)."""

    def render(result: Any, fmt: str) -> None:
        if params["out"] and not params["dry_run"]:
            print(
                f"wrote {params['out']}: {result.metrics['securables']:,} securable(s), {result.metrics['principals']:,} principal(s)",
                file=sys.stderr,
            )
        else:
            sys.stdout.write(result.metrics["policy_yaml"])

    _run(ctx, {"action": "export", **params}, json_out, render)


@app.command("show")
@options_from(
    GrantParams,
    securable=argument(field="securables", single=True, help="catalog, catalog.schema, catalog.schema.table or TYPE:NAME."),
    url=URL,
)
def show(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Effective privileges per principal on one securable; inherited ones name their catalog or schema."""
    _run(ctx, {"action": "show", **params}, json_out, _render_show)


def _render_show(result: Any, fmt: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from lakectl.cli.render import console_for

    table = Table(title=f"{result.metrics['securable']} (owner {result.metrics['owner']})", title_justify="left")
    for c in ("principal", "privilege", "inherited from"):
        table.add_column(c, overflow="fold")
    for r in result.details:
        table.add_row(escape(r["principal"]), r["privilege"], escape(r["inherited_from"] or ""))
    console_for(fmt).print(table)


@app.command("register")
@options_from(
    GrantParams,
    tables=argument(field="securables", help="Tables as schema.name (default: every configured table)."),
    url=URL,
    dry_run=DRY_RUN,
)
def register(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Register lakectl's Delta tables in storage.catalog as EXTERNAL tables at their paths, so grants can name them."""
    _run(ctx, {"action": "register", **params}, json_out, _render_register)


def _render_register(result: Any, fmt: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    con = Console(highlight=False)
    for r in result.details:
        con.print(f"  {r['action']:<12} {escape(r['table'])}  {escape(r['location'])} {escape(r['detail'])}")
    m = result.metrics
    con.print(
        f"[bold]{m['created'] + m['would_create']:,} {'to register' if result.dry_run else 'registered'}[/], {m['exists']:,} already there, "
        f"{m['missing']:,} not written yet, {m['conflict']:,} registered elsewhere, {m['failed']:,} failed"
    )
