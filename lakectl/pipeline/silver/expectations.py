"""Expectations: named SQL predicates with an action (warn | drop | quarantine | fail).

All rules of a table are evaluated in ONE pass: each rule becomes a boolean column, a row's outcome
follows from them (fail > quarantine > drop > warn), and the per-rule figures come from one aggregate.
A rule passes only when its predicate is TRUE; NULL counts as failed, so write `x IS NULL OR ...`
for optional columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

ACTIONS = ("warn", "drop", "quarantine", "fail")
# A row's outcome: the strongest action among the rules it failed ("ok" when it failed none or only warn rules).
OUTCOME_PRECEDENCE = ("fail", "quarantine", "drop")
FAILED = "_dq_failed"  # array<string>: names of the rules the row failed
OUTCOME = "_dq_outcome"  # ok | drop | quarantine | fail


@dataclass(frozen=True)
class Rule:
    name: str
    expr: str
    action: str
    table: str = "silver.events"

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ConfigError(f"expectation {self.name!r}: unknown action {self.action!r}", f"use one of {', '.join(ACTIONS)}")
        if not self.name.strip() or not self.expr.strip():
            raise ConfigError("an expectation needs a non-empty name and expr")


@dataclass
class RuleMetric:
    table: str
    rule: str
    action: str
    rows_checked: int = 0
    rows_passed: int = 0
    rows_failed: int = 0

    def add(self, other: RuleMetric) -> None:
        self.rows_checked += other.rows_checked
        self.rows_passed += other.rows_passed
        self.rows_failed += other.rows_failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rules_for(expectations: Iterable[Any], table: str) -> list[Rule]:
    """The configured expectations of `table` as Rules; names must be unique per table."""
    rules = [Rule(e.name, e.expr, e.action, e.table) for e in expectations if e.table == table]
    seen: set[str] = set()
    for r in rules:
        if r.name in seen:
            raise ConfigError(f"transform.expectations: rule name {r.name!r} appears twice for {table}", "give every rule its own name")
        seen.add(r.name)
    return rules


def outcome_of(failed_actions: Iterable[str]) -> str:
    """The outcome of a row that failed rules with these actions (pure; mirrors `outcome_column`)."""
    actions = set(failed_actions)
    for action in OUTCOME_PRECEDENCE:
        if action in actions:
            return action
    return "ok"


def _flag(i: int) -> str:
    return f"_dq_{i}"


def validate(df: DataFrame, rules: Sequence[Rule]) -> None:
    """Analyse every predicate against df's schema (no Spark job); a bad one is a ConfigError naming it."""
    from pyspark.sql import functions as F

    for r in rules:
        try:
            field = df.select(F.expr(r.expr).alias("p")).schema["p"]
        except Exception as exc:  # ParseException / AnalysisException
            first = str(exc).strip().splitlines()[0][:200]
            raise ConfigError(
                f"transform.expectations[{r.name}]: invalid predicate {r.expr!r}: {first}",
                f"write a SQL boolean expression over {r.table} columns",
            ) from exc
        if field.dataType.typeName() != "boolean":
            raise ConfigError(f"transform.expectations[{r.name}]: {r.expr!r} is {field.dataType.simpleString()}, not a boolean")


def with_checks(df: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """Add one boolean column per rule (TRUE = passed), the failed rule names and the row's outcome."""
    from pyspark.sql import functions as F

    flags = [F.coalesce(F.expr(r.expr), F.lit(False)).alias(_flag(i)) for i, r in enumerate(rules)]
    df = df.select("*", *flags)
    names = [F.when(~F.col(_flag(i)), F.lit(r.name)) for i, r in enumerate(rules)]
    failed = F.array_compact(F.array(*names)) if names else F.array().cast("array<string>")
    outcome: Column = F.lit("ok")
    for action in reversed(OUTCOME_PRECEDENCE):  # build so that the strongest action is tested first
        hit = [~F.col(_flag(i)) for i, r in enumerate(rules) if r.action == action]
        if hit:
            cond = hit[0]
            for h in hit[1:]:
                cond = cond | h
            outcome = F.when(cond, F.lit(action)).otherwise(outcome)
    return df.withColumn(FAILED, failed).withColumn(OUTCOME, outcome)


def rule_aggregates(rules: Sequence[Rule], checked: Column | None = None) -> list[Column]:
    """Aggregate columns giving each rule's failures among rows where `checked` holds (all rows if None)."""
    from pyspark.sql import functions as F

    scope = checked if checked is not None else F.lit(True)
    return [F.sum(F.when(scope & ~F.col(_flag(i)), 1).otherwise(0)).alias(f"_fail_{i}") for i in range(len(rules))]


def metrics_from(row: Any, rules: Sequence[Rule], rows_checked: int) -> list[RuleMetric]:
    """Per-rule figures from the aggregate row produced with `rule_aggregates`."""
    out = []
    for i, r in enumerate(rules):
        failed = int(row[f"_fail_{i}"] or 0)
        out.append(RuleMetric(r.table, r.name, r.action, rows_checked, rows_checked - failed, failed))
    return out


def merge_metrics(total: dict[tuple[str, str], RuleMetric], batch: Iterable[RuleMetric]) -> None:
    for m in batch:
        key = (m.table, m.rule)
        if key in total:
            total[key].add(m)
        else:
            total[key] = RuleMetric(**m.to_dict())


def drop_check_columns(df: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    return df.drop(*[_flag(i) for i in range(len(rules))], FAILED, OUTCOME)
