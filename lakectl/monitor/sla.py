"""Evaluate every configured SLA (tables.<key>.sla): freshness, maximum lag, minimum pass rate,
maximum small-file ratio; grants drift (grant.sla); rating agreement and score drift of scored
model versions (ml.sla). Each is one Check; a failed check is a breach."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from lakectl.config import Settings
from lakectl.monitor.quality import latest_table_pass_rates, rule_quality
from lakectl.monitor.streams import StreamHealth, all_streams
from lakectl.monitor.tables import TableHealth, table_health

if TYPE_CHECKING:
    from lakectl.config import ModelSla
    from lakectl.governance.plan import Plan
    from lakectl.monitor.model_health import VersionFigures

# Which streams feed which table: every ingest stream writes bronze.events.
STREAM_TABLES = ("bronze.events",)


@dataclass
class Check:
    name: str  # e.g. "freshness:silver.events"
    table: str
    kind: str  # freshness | max_lag_records | max_end_to_end_lag | min_pass_rate | max_small_file_ratio | grants_drift | min_rating_agreement | max_score_psi
    status: str  # pass | breach | skipped
    value: float | None
    threshold: float
    message: str

    @property
    def fingerprint(self) -> str:
        """Stable while the same breach stands (independent of the measured value)."""
        return hashlib.sha1(self.name.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fingerprint": self.fingerprint}


def evaluate(settings: Settings, *, kafka_timeout: float = 5.0) -> list[Check]:
    checks: list[Check] = []
    slas = {k: settings.table(k).config.sla for k in settings.table_keys()}
    slas = {k: s for k, s in slas.items() if any(v is not None for v in msgspec.structs.astuple(s))}
    health: dict[str, TableHealth] = {k: table_health(settings, k) for k in slas}
    need_streams = any(s.max_lag_records is not None for s in slas.values())
    streams: list[StreamHealth] = all_streams(settings, kafka_timeout=kafka_timeout) if need_streams else []
    need_dq = any(s.min_pass_rate is not None for s in slas.values())
    rates = latest_table_pass_rates(rule_quality(settings)) if need_dq else {}
    for key, sla in slas.items():
        h = health[key]
        if sla.freshness_minutes is not None:
            checks.append(_freshness(key, h, sla.freshness_minutes))
        if sla.max_small_file_ratio is not None:
            checks.append(_small_files(key, h, sla.max_small_file_ratio, settings.monitor.small_file_min_files))
        if sla.min_pass_rate is not None:
            checks.extend(_pass_rates(key, rates.get(key, {}), sla.min_pass_rate))
        if sla.max_lag_records is not None:
            checks.extend(_lag(key, streams, sla.max_lag_records))
        if sla.max_end_to_end_lag_seconds is not None:
            checks.append(_end_to_end_lag(settings, key, sla.max_end_to_end_lag_seconds))
    if settings.grant.sla.grants_drift == "fail":
        checks.append(_grants_drift(settings))
    if settings.ml.sla.configured:
        checks.extend(_model_slas(settings))
    return checks


def _model_slas(settings: Settings) -> list[Check]:
    """`ml.sla`: rating agreement and score drift of each model version scored in the last
    `ml.sla.window_days` (what `lakectl monitor models` shows); a report that cannot be made is a breach."""
    from lakectl.core.errors import LakectlError
    from lakectl.engine.context import JobContext
    from lakectl.monitor.model_health import SCORES, model_report

    sla = settings.ml.sla
    try:
        report = model_report(JobContext(settings=settings), days=sla.window_days)
    except LakectlError as e:
        return [Check("model_slas", SCORES, "model_slas", "breach", None, 0, f"model figures unknown: {e.one_line()}")]
    if not report.versions:
        why = report.missing or f"no scores in the last {sla.window_days:g} day(s); run `lakectl score`"
        return [Check("model_slas", SCORES, "model_slas", "skipped", None, 0, why)]
    checks = []
    for v in report.versions:
        checks.extend(model_checks(v, sla.for_model(v.model_name), sla.min_rows))
    return checks


def model_checks(v: VersionFigures, sla: ModelSla, min_rows: int) -> list[Check]:
    """The min_rating_agreement / max_score_psi checks of one model version's figures."""
    from lakectl.ml.metrics import psi_reading
    from lakectl.monitor.model_health import SCORES

    checks, who = [], f"{v.model_name}/{v.model_version}"
    if sla.min_rating_agreement is not None:
        name, limit, kind = f"min_rating_agreement:{who}", sla.min_rating_agreement, "min_rating_agreement"
        value = v.rating_agreement
        if value is None or v.rated_rows < min_rows:
            checks.append(
                Check(
                    name,
                    SCORES,
                    kind,
                    "skipped",
                    value,
                    limit,
                    f"{who}: {v.rated_rows:,} rated review(s) scored, fewer than ml.sla.min_rows ({min_rows:,})",
                )
            )
        else:
            ok = value >= limit
            checks.append(
                Check(
                    name,
                    SCORES,
                    kind,
                    "pass" if ok else "breach",
                    value,
                    limit,
                    f"{who}: agreement with ratings {value:.2%} over {v.rated_rows:,} rated review(s) (SLA >= {limit:.2%})",
                )
            )
    if sla.max_score_psi is not None:
        name, limit, kind = f"max_score_psi:{who}", sla.max_score_psi, "max_score_psi"
        if v.psi is None:
            checks.append(Check(name, SCORES, kind, "skipped", None, limit, f"{who}: PSI unknown: {v.psi_reason}"))
        elif v.rows < min_rows:
            checks.append(
                Check(name, SCORES, kind, "skipped", v.psi, limit, f"{who}: {v.rows:,} score(s), fewer than ml.sla.min_rows ({min_rows:,})")
            )
        else:
            ok = v.psi <= limit
            checks.append(
                Check(
                    name,
                    SCORES,
                    kind,
                    "pass" if ok else "breach",
                    v.psi,
                    limit,
                    f"{who}: score PSI {v.psi:.3f} ({psi_reading(v.psi)}) vs the training run, {v.rows:,} score(s) (SLA <= {limit:g})",
                )
            )
    return checks


def _grants_drift(settings: Settings) -> Check:
    """`grant.sla.grants_drift: fail`: any grant on a managed securable that differs from the policy
    (what `lakectl grant drift` shows) is a breach; so is a server that cannot be asked."""
    from lakectl.core.errors import LakectlError
    from lakectl.governance.backends import backend_for
    from lakectl.governance.plan import build_plan
    from lakectl.governance.policy import load_policy

    name, policy_file = "grants_drift", settings.grant.policy
    try:
        from lakectl.engine.context import JobContext

        plan = build_plan(load_policy(policy_file), backend_for(JobContext(settings=settings)))
    except LakectlError as e:
        return Check(name, "grants", "grants_drift", "breach", None, 0, f"grants drift unknown: {e.one_line()}")
    return drift_check(plan, policy_file)


def drift_check(plan: Plan, policy_file: str) -> Check:
    """The grants_drift check of a plan: every kind of difference `grant drift` reports (grants, tags, owners,
    column masks, row filters) is a breach, named (the first three) in the message."""
    items = [
        f"{'out of policy' if c['action'] == 'revoke' else 'missing'}: {c['principal']} {c['privilege']} on "
        f"{c['securable_type']} {c['securable']}"
        for c in plan.flat()
    ]
    items += [
        f"tags differ on {t['securable_type']} {t['securable']}{'.' + t['column'] if t.get('column') else ''}" for t in plan.tag_changes
    ]
    items += [f"owner of {o['securable_type']} {o['securable']} is {o.get('from')}, not {o.get('to')}" for o in plan.owner_changes]
    items += [f"{m['kind'].replace('_', ' ')} on {m['securable']}{'.' + m['column'] if m.get('column') else ''}" for m in plan.mask_changes]
    if not items:
        return Check(
            "grants_drift",
            "grants",
            "grants_drift",
            "pass",
            0,
            0,
            f"grants as {policy_file} says ({plan.unchanged:,} grants, {len(plan.securables):,} securables)",
        )
    more = f" (+{len(items) - 3:,} more; see `lakectl grant drift`)" if len(items) > 3 else ""
    return Check(
        "grants_drift",
        "grants",
        "grants_drift",
        "breach",
        len(items),
        0,
        f"{len(items):,} difference(s) from {policy_file}: {'; '.join(items[:3])}{more}",
    )


def _freshness(key: str, h: TableHealth, limit: float) -> Check:
    name = f"freshness:{key}"
    if h.status != "ok" or h.freshness_minutes is None:
        return Check(name, key, "freshness", "breach", None, limit, f"{key} is {h.status}: no data write to measure freshness")
    ok = h.freshness_minutes <= limit
    return Check(
        name,
        key,
        "freshness",
        "pass" if ok else "breach",
        h.freshness_minutes,
        limit,
        f"{key} last written {h.freshness_minutes:,.1f} min ago (SLA {limit:,g} min)",
    )


def _end_to_end_lag(settings: Settings, key: str, limit: float) -> Check:
    from lakectl.monitor.freshness import lag_seconds, newest_event

    name = f"end_to_end_lag:{key}"
    lag = lag_seconds(newest_event(settings, key))
    if lag is None:
        return Check(name, key, "max_end_to_end_lag", "breach", None, limit, f"{key}: no event time to measure its lag from")
    ok = lag <= limit
    return Check(
        name,
        key,
        "max_end_to_end_lag",
        "pass" if ok else "breach",
        lag,
        limit,
        f"{key} reflects events up to {lag:,.0f} s ago (SLA {limit:,g} s)",
    )


def _small_files(key: str, h: TableHealth, limit: float, min_files: int = 1) -> Check:
    name = f"max_small_file_ratio:{key}"
    if h.status != "ok" or h.small_file_ratio is None:
        return Check(name, key, "max_small_file_ratio", "skipped", None, limit, f"{key} is {h.status}")
    if (h.files or 0) < min_files:  # a fresh table: a few small files are no problem compaction would solve
        return Check(
            name,
            key,
            "max_small_file_ratio",
            "skipped",
            h.small_file_ratio,
            limit,
            f"{key}: {h.files:,} file(s), fewer than monitor.small_file_min_files ({min_files:,})",
        )
    ok = h.small_file_ratio <= limit
    return Check(
        name,
        key,
        "max_small_file_ratio",
        "pass" if ok else "breach",
        h.small_file_ratio,
        limit,
        f"{key}: {h.small_files:,} of {h.files:,} files are small ({h.small_file_ratio:.0%}, SLA <= {limit:.0%}); run `lakectl optimize`"
        if not ok
        else f"{key}: small-file ratio {h.small_file_ratio:.0%} (SLA <= {limit:.0%})",
    )


def _pass_rates(key: str, rules: dict[str, float | None], limit: float) -> list[Check]:
    if not rules:
        return [Check(f"min_pass_rate:{key}", key, "min_pass_rate", "skipped", None, limit, f"no data-quality metrics for {key} yet")]
    checks = []
    for rule, rate in sorted(rules.items()):
        name = f"min_pass_rate:{key}:{rule}"
        if rate is None:
            checks.append(Check(name, key, "min_pass_rate", "skipped", None, limit, f"{key} rule {rule}: no rows checked"))
            continue
        ok = rate >= limit
        checks.append(
            Check(
                name,
                key,
                "min_pass_rate",
                "pass" if ok else "breach",
                rate,
                limit,
                f"{key} rule {rule}: pass rate {rate:.2%} in the last run (SLA >= {limit:.2%})",
            )
        )
    return checks


def _lag(key: str, streams: list[StreamHealth], limit: int) -> list[Check]:
    if key not in STREAM_TABLES:
        return [Check(f"max_lag_records:{key}", key, "max_lag_records", "skipped", None, limit, f"no stream writes {key}")]
    if not streams:
        return [Check(f"max_lag_records:{key}", key, "max_lag_records", "skipped", None, limit, "no ingest stream has run yet")]
    checks = []
    for s in streams:
        name = f"max_lag_records:{key}:{s.stream}"
        lag = s.backlog_records if s.backlog_records is not None else s.backlog_files
        unit = "records" if s.backlog_records is not None else "files"
        if lag is None:
            checks.append(
                Check(
                    name, key, "max_lag_records", "breach", None, limit, f"stream {s.stream}: backlog unknown ({s.error or 'no offsets'})"
                )
            )
            continue
        ok = lag <= limit
        checks.append(
            Check(
                name,
                key,
                "max_lag_records",
                "pass" if ok else "breach",
                lag,
                limit,
                f"stream {s.stream}: {lag:,} {unit} behind (SLA <= {limit:,})",
            )
        )
    return checks


def breaches(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "breach"]
