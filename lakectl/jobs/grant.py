"""grant: Unity Catalog privileges from a policy file — plan, apply, drift, export, show.

No SparkSession and no JVM: the backend speaks HTTP to the catalog server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakectl.core.errors import CheckpointConflict, UsageError
from lakectl.core.results import Result, Timer
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.governance.backends import backend_for
from lakectl.jobs.params import GrantParams

PLAN_FORMAT = 1


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, GrantParams)
    if p.action == "apply" and p.dry_run:
        p.action = "plan"
    if p.action == "export":
        return export(ctx, p, backend_for(ctx, p.url))
    if p.action == "show":
        return show(p, backend_for(ctx, p.url))
    if p.action == "register":
        return register(ctx, p, backend_for(ctx, p.url))
    from lakectl.governance.policy import load_policy

    policy = load_policy(p.policy or ctx.settings.grant.policy)  # a bad policy is reported before any request
    backend = backend_for(ctx, p.url)
    try:
        return _plan_or_apply(p, params, policy, backend)
    finally:
        close = getattr(backend, "close", None)
        if close:
            close()


def _plan_or_apply(p: GrantParams, params: dict[str, Any], policy, backend) -> Result:
    from lakectl.governance.plan import build_plan

    if p.action == "apply":
        _prefetch_ledger()
        if hasattr(backend, "prefetch_users"):
            backend.prefetch_users()  # the principal check's listing overlaps the grant reads
    with Timer() as t:
        plan = build_plan(policy, backend)
    if p.action == "apply":
        result = apply(p, params, plan, backend, policy.file)
        result.metrics["plan_s"] = t.seconds
        return result
    result = _plan_result(p.action, plan, policy.file, backend)
    if p.action == "plan":
        unknown = _unknown_principals(plan, backend)
        if unknown:  # what apply would refuse, plan reports, with apply's exit code (status "refused": exit 2)
            result.status = "refused"
            result.metrics["unknown_principals"] = unknown
    if p.action == "plan" and p.out:
        _save_plan(Path(p.out), plan, policy.file, backend.url)
        result.metrics["plan_file"] = p.out
    result.dry_run = p.dry_run
    return result


def _prefetch_ledger() -> None:
    """Import the run ledger's delta-rs writer in a thread while the HTTP calls wait on the server,
    so recording the apply in ops.runs afterwards costs only the write."""
    import threading

    def load() -> None:
        try:
            import deltalake  # noqa: F401

            import lakectl.lake.deltars  # noqa: F401
        except Exception:  # the ledger reports its own problems later
            pass

    threading.Thread(target=load, name="lakectl-ledger-import", daemon=True).start()


def _plan_result(action: str, plan, policy_file: str, backend) -> Result:
    changes = plan.flat()
    metrics: dict[str, Any] = {
        "policy": policy_file,
        "server": backend.url,
        "securables": len(plan.securables),
        "to_add": plan.to_add,
        "to_revoke": plan.to_revoke,
        "unchanged": plan.unchanged,
        "changes": changes,
        "unsupported": plan.unsupported,
        "kept": plan.kept,
        "self_lockout": plan.self_lockout,
        "orphaned": plan.orphaned,
        "notes": plan.notes,
        "requests": backend.requests,
        "tags_to_set": plan.tags_to_set,
        "tags_to_unset": plan.tags_to_unset,
        "tag_changes": plan.tag_changes,
        "owners_to_change": len(plan.owner_changes),
        "owner_changes": plan.owner_changes,
        "masks_to_set": plan.count("mask_set"),
        "masks_to_drop": plan.count("mask_drop"),
        "row_filters_to_set": plan.count("row_filter_set"),
        "row_filters_to_drop": plan.count("row_filter_drop"),
        "mask_changes": plan.mask_changes,
    }
    if action == "drift":
        metrics["out_of_policy"] = [c for c in changes if c["action"] == "revoke"]
        metrics["missing"] = [c for c in changes if c["action"] == "add"]
    return Result(job=f"grant {action}", status="changes" if plan.pending else "ok", metrics=metrics)


def _save_plan(path: Path, plan, policy_file: str, url: str) -> None:
    doc = {
        "format": PLAN_FORMAT,
        "policy": policy_file,
        "server": url,
        "fingerprints": plan.fingerprints(),
        "changes": plan.flat(),
        "tag_changes": plan.tag_changes,
        "owner_changes": plan.owner_changes,
        "mask_changes": plan.mask_changes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False))


def _check_saved_plan(path: Path, plan) -> None:
    """Refuse (exit 6) when the server or the policy changed since the plan was shown."""
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"plan file not found: {path}", "write one with `lakectl grant plan --out FILE`") from None
    except ValueError:
        raise UsageError(f"{path}: not a plan file written by `lakectl grant plan --out`") from None
    now = plan.fingerprints()
    changed = sorted(k for k in set(now) | set(saved.get("fingerprints", {})) if now.get(k) != saved.get("fingerprints", {}).get(k))
    if changed:
        more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
        raise CheckpointConflict(
            f"the server's grants changed since the plan in {path}: {', '.join(changed[:5])}{more}",
            "run `lakectl grant plan` again, review it, then apply the new plan",
        )
    if saved.get("changes") != plan.flat() or any(
        saved.get(k, []) != getattr(plan, k) for k in ("tag_changes", "owner_changes", "mask_changes")
    ):
        raise CheckpointConflict(f"the policy changed since the plan in {path}", "run `lakectl grant plan` again, review it, then apply")


UNKNOWN_PRINCIPALS = "principal(s) unknown to the server"


def _unknown_principals(plan, backend) -> list[str]:  # noqa: ANN001
    """The principals the plan grants to that the server does not know (apply refuses them)."""
    principals = {c.principal for c in plan.changes if c.add}
    return sorted(backend.missing_principals(principals)) if principals else []


def apply(p: GrantParams, params: dict[str, Any], plan, backend, policy_file: str) -> Result:
    from lakectl.governance.plan import flatten

    if p.plan_file:
        _check_saved_plan(Path(p.plan_file), plan)
    if plan.unsupported and not p.skip_unsupported:
        raise UsageError(
            f"{len(plan.unsupported)} part(s) of the policy cannot be held by this server: {plan.unsupported[0]}",
            "see `lakectl grant plan`; apply the rest with --skip-unsupported",
        )
    if plan.self_lockout and not p.allow_self_lockout:
        s = plan.self_lockout[0]
        raise UsageError(
            f"the plan revokes your own {', '.join(s['privileges'])} on {s['securable']} (as {s['principal']})",
            "fix the policy, or pass --allow-self-lockout if that is really wanted",
        )
    if plan.orphaned and not p.allow_self_lockout:
        raise UsageError(
            f"the plan leaves {plan.orphaned[0]} with no owner and nobody holding MANAGE",
            "keep a MANAGE grant in the policy, or pass --allow-self-lockout if that is really wanted",
        )
    result = _plan_result("apply", plan, policy_file, backend)
    if not plan.pending:
        result.metrics["changes_applied"] = 0
        params["changes"] = []
        return result
    missing = _unknown_principals(plan, backend)
    if missing:
        raise UsageError(f"{UNKNOWN_PRINCIPALS}: {', '.join(missing)}", "create them first; nothing was applied")
    with Timer() as t:
        outcome = backend.apply(plan.changes) if plan.changes else None
    result.metrics["patch_s"] = t.seconds
    applied = flatten(outcome.applied) if outcome else []
    failed = [{"change": f, "error": e.error} for e in outcome.failed for f in flatten([e.change])] if outcome else []
    tags_applied = _apply_tags(plan.tag_changes, backend, failed)
    params["tag_changes"] = tags_applied
    result.metrics["tag_changes_applied"] = len(tags_applied)
    masks_applied = _apply_masks(plan.mask_changes, backend, failed)
    owners_applied = _apply_owners(plan.owner_changes, backend, failed)  # last: a transfer may end the caller's power to grant
    params["mask_changes"], params["owner_changes"] = masks_applied, owners_applied
    result.metrics.update(mask_changes_applied=len(masks_applied), owner_changes_applied=len(owners_applied))
    params["changes"] = applied  # the run ledger (ops.runs) stores params: the full change list is recorded there
    params["failed"] = failed
    result.metrics.update(changes_applied=len(applied), failed=failed, requests=backend.requests)
    result.status = "failed" if failed else "ok"
    if failed:
        result.warnings.append(
            f"{len(failed):,} change(s) failed, {len(applied):,} applied: the server now differs from the plan; run `lakectl grant plan`"
        )
    return result


def _apply_masks(mask_changes: list[dict[str, Any]], backend, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Column masks and row filters, each verified by reading its table back; failures reported one by one."""
    if not mask_changes:
        return []
    done = []
    for change, error in backend.apply_masks(mask_changes):
        if error is None:
            done.append(change)
        else:
            failed.append({"change": change, "error": error})
    return done


def _apply_owners(owner_changes: list[dict[str, Any]], backend, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from lakectl.core.errors import LakectlError
    from lakectl.governance.backend import Securable

    done = []
    for o in owner_changes:
        try:
            backend.set_owner(Securable(o["securable_type"], tuple(o["name"])), o["to"])
            done.append(o)
        except LakectlError as e:
            failed.append({"change": o, "error": e.message})
    return done


def _apply_tags(tag_changes: list[dict[str, Any]], backend, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each tag change in its own statement(s); a failure is reported with its own error, the rest go on."""
    from lakectl.core.errors import LakectlError
    from lakectl.governance.backend import Securable

    done = []
    for t in tag_changes:
        try:
            backend.set_tags(Securable(t["securable_type"], tuple(t["name"])), t["column"], t["set"], t["unset"])
            done.append(t)
        except LakectlError as e:
            failed.append({"change": t, "error": e.message})
    return done


def export(ctx: JobContext, p: GrantParams, backend) -> Result:
    from lakectl.governance.export import export_policy, parse_securable, to_yaml

    doc, warnings = export_policy(backend, [parse_securable(s) for s in p.securables])
    text = to_yaml(doc)
    if p.out and not p.dry_run:
        Path(p.out).parent.mkdir(parents=True, exist_ok=True)
        Path(p.out).write_text(text)
    n = sum(len(v) for k, v in doc.items() if isinstance(v, dict) and k not in ("principals", "managed"))
    return Result(
        job="grant export",
        dry_run=p.dry_run,
        warnings=warnings,
        metrics={"securables": n, "principals": len(doc["principals"]["users"]), "out": p.out, "policy_yaml": text},
    )


def show(p: GrantParams, backend) -> Result:
    from lakectl.governance.export import parse_securable
    from lakectl.governance.names import format_name
    from lakectl.governance.plan import parents

    if len(p.securables) != 1:
        raise UsageError("grant show takes one SECURABLE", "e.g. lakectl grant show lakehouse.gold.kpi_hourly")
    s = parse_securable(p.securables[0])
    if hasattr(backend, "get_effective"):  # Databricks answers inheritance itself (effective-permissions)
        owner = backend.owner(s)
        rows = ([{"principal": owner, "privilege": "OWNER", "inherited_from": None}] if owner else []) + backend.get_effective(s)
        return Result(job="grant show", metrics={"securable": f"{s.type} {format_name(s.name)}", "owner": owner}, details=rows)
    chain = [s] + parents(s.name, s.type)
    grants = backend.get_grants(chain)
    owners = backend.owners(chain) if hasattr(backend, "owners") else {c: backend.owner(c) for c in chain}
    rows = []
    for c in chain:
        inherited = None if c == s else f"{c.type} {format_name(c.name)}"
        if owners.get(c):
            rows.append({"principal": owners[c], "privilege": "OWNER", "inherited_from": inherited})
        for principal, privs in sorted(grants[c].items()):
            rows += [{"principal": principal, "privilege": pr, "inherited_from": inherited} for pr in sorted(privs)]
    return Result(job="grant show", metrics={"securable": f"{s.type} {format_name(s.name)}", "owner": owners.get(s)}, details=rows)


def register(ctx: JobContext, p: GrantParams, backend) -> Result:
    from lakectl.governance.register import register_tables

    rows = register_tables(ctx.settings, backend, keys=p.securables, dry_run=p.dry_run)
    counts = {a: sum(r["action"] == a for r in rows) for a in ("created", "would_create", "exists", "missing", "conflict", "failed")}
    result = Result(
        job="grant register",
        dry_run=p.dry_run,
        details=rows,
        metrics={"catalog": ctx.settings.storage.catalog, **counts},
        tables_written=[r["table"] for r in rows if r["action"] == "created"],
    )
    if counts["conflict"] or counts["failed"]:
        result.status = "failed"
        result.warnings += [f"{r['table']}: {r['action']}: {r['detail']}" for r in rows if r["action"] in ("conflict", "failed")]
    return result
