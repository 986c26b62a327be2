"""The interface a grants backend implements (uc_oss.py today; a databricks.py can follow).

Backends speak in Databricks' privilege spelling (USE_CATALOG) and in securable names as tuples
of parts; translating to a server's own spelling and URL encoding is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lakectl.core.errors import LakectlError
from lakectl.governance.names import Name


@dataclass(frozen=True)
class Securable:
    type: str  # catalog | schema | table | volume | function | registered_model
    name: Name


@dataclass
class PrincipalChange:
    """One principal's privileges to add and remove on one securable (one PATCH entry)."""

    securable: Securable
    principal: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass
class Capabilities:
    """What a backend's server can hold; the rest of a policy is reported as unsupported."""

    privileges: frozenset[str]
    groups: bool = False
    owner_transfer: bool = False
    tags: bool = False
    masks: bool = False
    row_filters: bool = False


@dataclass
class ChangeFailure:
    change: PrincipalChange
    error: str


@dataclass
class ApplyOutcome:
    applied: list[PrincipalChange] = field(default_factory=list)
    failed: list[ChangeFailure] = field(default_factory=list)


class GrantsBackend(Protocol):
    name: str
    capabilities: Capabilities
    caller: str | None  # the principal the credentials act as
    admins: frozenset[str]  # metastore admins: never revoked

    def get_grants(self, securables: list[Securable]) -> dict[Securable, dict[str, frozenset[str]]]:
        """Direct grants per securable (one round trip each, in parallel where possible)."""

    def owner(self, securable: Securable) -> str | None: ...

    def children(self, type: str, parent: Name) -> list[Name]:
        """Names of the securables of `type` directly under `parent` (catalogs under ())."""

    def missing_principals(self, principals: set[str]) -> set[str]: ...

    def apply(self, changes: list[PrincipalChange]) -> ApplyOutcome:
        """Apply the changes (principals already validated); report each one applied or failed with its
        own error, so a partial failure is never hidden."""


def unverified(change: PrincipalChange, held: set[str] | frozenset[str], *, who: str, hint: str = "") -> str | None:
    """Why `who`'s answer shows `change` not in effect, or None when it is."""
    missing, left = sorted(set(change.add) - held), sorted(set(change.remove) & held)
    if not missing and not left:
        return None
    what = [f"not granted: {', '.join(missing)}"] * bool(missing) + [f"still held: {', '.join(left)}"] * bool(left)
    return f"{who} accepted the change but its answer shows {'; '.join(what)}{hint}"


def apply_securable(
    changes: list[PrincipalChange],
    patch: Callable[[Securable, list[PrincipalChange]], list[tuple[PrincipalChange, str | None]]],
    get_one: Callable[[Securable], dict[str, frozenset[str]]],
    check: Callable[[PrincipalChange, frozenset[str]], str | None],
) -> list[tuple[PrincipalChange, str | None]]:
    """All principals of one securable in one PATCH. After a failure the securable is re-read to learn which
    changes landed (a server may stop at the first error), and the rest are retried one principal at a time,
    so each change is reported applied or failed with its own error."""
    securable = changes[0].securable
    try:
        return patch(securable, changes)
    except LakectlError:
        pass
    try:
        now = get_one(securable)
    except LakectlError as e:
        return [(c, e.message) for c in changes]
    out: list[tuple[PrincipalChange, str | None]] = []
    for c in changes:
        if check(c, now.get(c.principal, frozenset())) is None:
            out.append((c, None))
            continue
        try:
            out += patch(securable, [c])
        except LakectlError as e:
            out.append((c, e.message))
    return out
