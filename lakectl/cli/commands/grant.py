"""`lakectl grant ...`: Unity Catalog access as code — plan, apply, drift, export, show."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import epilog
from lakectl.cli.params import DRY_RUN, argument, option, options_from
from lakectl.cli.presenters import presents
from lakectl.cli.presenters import show as show_result
from lakectl.jobs.params import GrantParams

PANEL = "Governance"
app = typer.Typer(
    name="grant",
    no_args_is_help=True,
    help="Unity Catalog privileges from a policy file (configs/grants.yaml): plan, apply, drift, export, show.",
)

POLICY = option("-p", help="Policy file (default: grant.policy in the config).")
URL = option(help="Catalog server URL (default: grant.url in the config).")


def _run(ctx: typer.Context, params: dict[str, Any], json_out: bool, *, changes_exit: bool = False) -> None:
    """The grant job, in this process whatever the target; `apply` and `register` are recorded in the run ledger
    (ops.runs), reads and dry runs are not. Its presenter prints -o table / wide; warnings go to stderr."""
    writes = params["action"] in ("apply", "register") and not params.get("dry_run")
    run_job(ctx, "grant", params, json_out, remote=False, progress="none", tracked=writes, present=_present, changes_exit=changes_exit)


def _present(result: Any, fmt: str) -> None:
    if fmt == "json":
        from lakectl.core.results import json_default

        print(json.dumps(result.to_dict(), default=json_default, ensure_ascii=False))
    else:
        show_result(result, fmt)
    for w in result.warnings:
        print(f"lakectl: warning: {w}", file=sys.stderr)


@presents("grant plan", "grant apply")
def _present_plan(result: Any, fmt: str) -> None:
    title = "apply" if result.job == "grant apply" else "plan (dry run)" if result.dry_run else "plan"
    _render_plan(result, title)


def _render_plan(result: Any, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    from lakectl.core.formatting import duration

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
    con.print(f"[bold]{summary}[/] in {duration(result.duration_s)}")
    if m.get("unknown_principals"):
        con.print(
            f"[bold red]apply would refuse:[/] principal(s) unknown to the server: {escape(', '.join(m['unknown_principals']))} "
            "(create them first, or fix the policy)"
        )


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


@app.command(
    "plan",
    epilog=epilog(
        [
            ("lakectl grant plan", "grants to add and revoke; exit 8 when there are changes"),
            ("lakectl grant plan --out plan.json", "and save it for `grant apply --plan plan.json`"),
        ],
        exits=(4, 8),
    ),
)
@options_from(GrantParams, policy=POLICY, url=URL, out=option(help="Save the plan for `grant apply --plan FILE`."))
def plan(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Show grants to add and to revoke (revokes are always shown); exit 8 when there are changes, 0 when none, 2 when
    apply would refuse the plan (principals the server does not know)."""
    _run(ctx, {"action": "plan", **params}, json_out, changes_exit=True)


@app.command(
    "apply",
    epilog=epilog(
        [
            ("lakectl grant apply", "make the server match the policy"),
            ("lakectl grant apply --plan plan.json", "apply a reviewed plan; exit 6 if the server changed since"),
        ],
        exits=(1, 4, 6),
    ),
)
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
    _run(ctx, {"action": "apply", **params}, json_out, changes_exit=params["dry_run"])


@app.command("drift", epilog=epilog([("lakectl grant drift", "grants changed outside the policy; exit 8 on drift")], exits=(4, 8)))
@options_from(GrantParams, policy=POLICY, url=URL)
def drift(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Grants changed on the server outside the policy (managed securables only); exit 8 on drift."""
    _run(ctx, {"action": "drift", **params}, json_out, changes_exit=True)


@presents("grant drift")
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


@app.command(
    "export",
    epilog=epilog(
        [("lakectl grant export lakehouse --out configs/grants.yaml", "adopt an existing catalog's grants as a policy")], exits=(4,)
    ),
)
@options_from(
    GrantParams,
    securables=argument(help="catalog, catalog.schema, catalog.schema.table or TYPE:NAME (default: every catalog)."),
    url=URL,
    out=option(help="Write the policy here (default: stdout)."),
    dry_run=DRY_RUN,
)
def export(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Write the server's current grants as a policy file (to adopt lakectl on an existing catalog)."""
    _run(ctx, {"action": "export", **params}, json_out)


@presents("grant export")
def _render_export(result: Any, fmt: str) -> None:
    m = result.metrics
    if m["out"] and not result.dry_run:
        print(f"wrote {m['out']}: {m['securables']:,} securable(s), {m['principals']:,} principal(s)", file=sys.stderr)
    else:
        sys.stdout.write(m["policy_yaml"])


@app.command(
    "show", epilog=epilog([("lakectl grant show lakehouse.gold.kpi_hourly", "who can do what on one table, and from where")], exits=(4,))
)
@options_from(
    GrantParams,
    securable=argument(field="securables", single=True, help="catalog, catalog.schema, catalog.schema.table or TYPE:NAME."),
    url=URL,
)
def show(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Effective privileges per principal on one securable; inherited ones name their catalog or schema."""
    _run(ctx, {"action": "show", **params}, json_out)


@presents("grant show")
def _render_show(result: Any, fmt: str) -> None:
    from lakectl.cli.fit import Column, print_table
    from lakectl.cli.render import console_for

    print_table(
        console_for(fmt),
        [Column("principal"), Column("privilege"), Column("inherited from", wrap=True)],
        [[r["principal"], r["privilege"], r["inherited_from"] or ""] for r in result.details],
        title=f"{result.metrics['securable']} (owner {result.metrics['owner']})",
        wide=fmt == "wide",
    )


@app.command(
    "register", epilog=epilog([("lakectl grant register --dry-run", "which tables would be registered in storage.catalog")], exits=(1, 4))
)
@options_from(
    GrantParams,
    tables=argument(field="securables", help="Tables as schema.name (default: every configured table)."),
    url=URL,
    dry_run=DRY_RUN,
)
def register(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Register lakectl's Delta tables in storage.catalog as EXTERNAL tables at their paths, so grants can name them."""
    _run(ctx, {"action": "register", **params}, json_out)


@presents("grant register")
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
