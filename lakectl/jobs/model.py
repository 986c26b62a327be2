"""model: list registered models, show one, and move its `champion` alias by hand (promote, rollback).

Runs against the MLflow registry only (no Spark); each call is recorded in the run ledger like any job.
"""

from __future__ import annotations

from typing import Any

from lakectl.core.errors import UsageError
from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import ModelParams


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    from lakectl.ml import registry
    from lakectl.ml.store import connect, store_of

    p = parse_params(params, ModelParams)
    store = store_of(ctx.settings, ctx.target)
    client = connect(store, create=False)
    result = Result(job="model", metrics={"action": p.action, "tracking_uri": store.display})
    if p.action == "list":
        for m in client.search_registered_models():
            result.details.append(
                {"name": m.name, "aliases": _aliases(m), "latest_version": _latest(client, m.name), "description": m.description or ""}
            )
        return result
    name = p.name or store.model_name
    _require(client, name)
    if p.action == "show":
        aliases = _aliases(client.get_registered_model(name))
        result.metrics.update({"name": name, "aliases": aliases, "champion_history": registry.history(client, name)})
        for mv in sorted(client.search_model_versions(f"name = '{_literal(name)}'"), key=lambda v: int(v.version)):
            run = client.get_run(mv.run_id) if mv.run_id else None
            result.details.append(
                {
                    "version": str(mv.version),
                    "aliases": sorted(a for a, v in aliases.items() if v == str(mv.version)),
                    "run_id": mv.run_id,
                    "created": mv.creation_timestamp,
                    "status": mv.status,
                    "test_accuracy": run.data.metrics.get("test_accuracy") if run else None,
                    "table_version": run.data.params.get("table_version") if run else None,
                }
            )
        return result
    before = registry.champion(client, name)
    result.metrics["name"] = name
    result.metrics["champion_before"] = before.version if before else None
    if p.action == "promote":
        if not p.version or not p.version.isdigit():
            raise UsageError("model promote needs NAME VERSION (a number)", "see `lakectl model show NAME`")
        registry.resolve(client, f"{name}/{p.version}", name)  # an unknown version is a usage error
        if not p.dry_run:
            registry.set_champion(client, name, p.version)
        result.metrics["champion"] = p.version
    else:
        if p.dry_run:
            past = registry.history(client, name)
            result.metrics["champion"] = past[-2] if len(past) >= 2 else None
        else:
            _, to = registry.rollback(client, name)
            result.metrics["champion"] = to
    result.dry_run = p.dry_run
    result.status = "dry_run" if p.dry_run else "ok"
    result.tables_written = [] if p.dry_run else [f"mlflow:{name}@champion"]
    return result


def _aliases(model) -> dict[str, str]:  # noqa: ANN001
    return {a: str(v) for a, v in (getattr(model, "aliases", {}) or {}).items()}


def _latest(client, name: str) -> str | None:  # noqa: ANN001
    versions = client.search_model_versions(f"name = '{_literal(name)}'")
    return str(max(int(v.version) for v in versions)) if versions else None


def _literal(name: str) -> str:
    if "'" in name:
        raise UsageError(f"model name {name!r} must not contain a quote")
    return name


def _require(client, name: str) -> None:  # noqa: ANN001
    try:
        client.get_registered_model(name)
    except Exception as exc:
        from lakectl.ml.registry import not_found

        if not_found(exc):
            raise UsageError(f"no registered model {name!r}", "see `lakectl model list`") from None
        raise
