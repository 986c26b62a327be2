"""The model registry: aliases (never stages), the promotion gate, and a champion history for rollback.

The registered model carries a tag `lakectl.champion_history` (versions that held `champion`, oldest
first), so `lakectl model rollback` can give the alias back to the one before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import UsageError

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHAMPION, CHALLENGER = "champion", "challenger"
HISTORY_TAG = "lakectl.champion_history"
_SPEC = re.compile(r"^(?:(?P<name>[A-Za-z0-9_.\-]+?)(?:[@/:]))?(?P<ref>[A-Za-z0-9_\-]+)$")


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str
    alias: str | None  # how it was asked for, when by alias
    run_id: str | None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def parse_spec(spec: str, default_name: str) -> tuple[str, str | None, str | None]:
    """'sentiment@champion' | 'sentiment/3' | 'sentiment:3' | '3' | 'challenger' -> (name, alias, version)."""
    m = _SPEC.match(spec.strip())
    if not m:
        raise UsageError(f"--model {spec!r} is not NAME@ALIAS, NAME/VERSION or VERSION", "e.g. --model sentiment@champion")
    name = m.group("name") or default_name
    ref = m.group("ref")
    if ref.isdigit():
        return name, None, ref
    if "/" in spec or ":" in spec:
        raise UsageError(f"--model {spec!r}: a version must be a number", "use NAME@ALIAS for an alias")
    return name, ref, None


def resolve(client: MlflowClient, spec: str, default_name: str) -> ModelRef:
    """The model version a spec names; a usage error (exit 2) when the model, alias or version is unknown."""
    name, alias, version = parse_spec(spec, default_name)
    try:
        mv = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    except Exception as exc:
        if not_found(exc):
            what = f"alias @{alias}" if alias else f"version {version}"
            raise UsageError(
                f"model {name}: no {what} in the registry", "see `lakectl model list`; train one with `lakectl train`"
            ) from None
        raise
    return ModelRef(name=name, version=str(mv.version), alias=alias, run_id=mv.run_id)


def champion(client: MlflowClient, name: str) -> ModelRef | None:
    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except Exception as exc:
        if not_found(exc):
            return None
        raise
    return ModelRef(name=name, version=str(mv.version), alias=CHAMPION, run_id=mv.run_id)


def history(client: MlflowClient, name: str) -> list[str]:
    model = client.get_registered_model(name)
    raw = (model.tags or {}).get(HISTORY_TAG, "")
    return [v for v in raw.split(",") if v]


def set_champion(client: MlflowClient, name: str, version: str) -> None:
    """Move `champion` to `version` and append it to the champion history."""
    client.set_registered_model_alias(name, CHAMPION, version)
    past = history(client, name)
    if not past or past[-1] != version:
        client.set_registered_model_tag(name, HISTORY_TAG, ",".join((past + [version])[-50:]))


def rollback(client: MlflowClient, name: str) -> tuple[str, str]:
    """Give `champion` back to the previous champion; (from_version, to_version)."""
    past = history(client, name)
    current = champion(client, name)
    if current is not None and past and past[-1] != current.version:
        past.append(current.version)  # moved by hand outside lakectl: treat it as the latest
    if len(past) < 2:
        raise UsageError(f"model {name}: no earlier champion to roll back to", "see `lakectl model show " + name + "`")
    past.pop()
    target = past[-1]
    client.set_registered_model_alias(name, CHAMPION, target)
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join(past))
    return (current.version if current else ""), target


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    metric: str
    challenger: float
    champion: float | None
    champion_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reason": self.reason,
            "metric": self.metric,
            "challenger": self.challenger,
            "champion": self.champion,
            "champion_version": self.champion_version,
        }


def gate(
    metric: str, challenger: float, champion_value: float | None, champion_version: str | None, *, minimum: float, tolerance: float
) -> GateDecision:
    """Promote when the test metric reaches `minimum` and beats the champion's on the same test split
    minus `tolerance` (strictly, so an equal model does not replace the champion)."""

    def decide(ok: bool, reason: str) -> GateDecision:
        return GateDecision(ok, reason, metric, challenger, champion_value, champion_version)

    if challenger < minimum:
        return decide(False, f"test {metric} {challenger:.4f} < minimum {minimum:.4f}")
    if champion_value is None:
        return decide(True, f"no champion yet; test {metric} {challenger:.4f} >= minimum {minimum:.4f}")
    if challenger > champion_value - tolerance:
        return decide(True, f"test {metric} {challenger:.4f} > champion v{champion_version} {champion_value:.4f} - tolerance {tolerance:g}")
    return decide(
        False, f"test {metric} {challenger:.4f} does not beat champion v{champion_version} {champion_value:.4f} - tolerance {tolerance:g}"
    )


def not_found(exc: Exception) -> bool:
    code = getattr(exc, "error_code", "") or ""
    return code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE") or "not found" in str(exc).lower()
