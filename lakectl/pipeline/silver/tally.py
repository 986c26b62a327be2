"""What transform's micro-batches saw, folded into the run's figures (a Tally travels as JSON from a
batch function that runs on a Spark Connect server)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lakectl.core.errors import LakectlError
from lakectl.pipeline.silver.expectations import RuleMetric, merge_metrics


@dataclass
class Tally:
    """What the micro-batches saw (kept on the driver; the written figures come from the Delta log)."""

    batches: int = 0
    rows_read: int = 0
    duplicates_in_batch: int = 0
    to_silver: int = 0
    to_quarantine: int = 0
    dropped: int = 0
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    warned_by_rule: dict[str, int] = field(default_factory=dict)
    rules: dict[tuple[str, str], RuleMetric] = field(default_factory=dict)
    inserted: int = 0
    reviews_inserted: int = 0
    quarantined: int = 0
    dims_upserted: dict[str, int] = field(default_factory=dict)
    dims_conflicts: dict[str, int] = field(default_factory=dict)  # keys with differing rows in one landing file
    dims_keys: dict[str, int] = field(default_factory=dict)  # distinct keys in the landing files merged
    failure: LakectlError | None = None
    dims_loaded: bool = False

    def add(self, other: Tally) -> None:
        """Fold one micro-batch's figures into the run's."""
        for name in (
            "batches",
            "rows_read",
            "duplicates_in_batch",
            "to_silver",
            "to_quarantine",
            "dropped",
            "inserted",
            "reviews_inserted",
            "quarantined",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in (
            (self.dropped_by_rule, other.dropped_by_rule),
            (self.warned_by_rule, other.warned_by_rule),
            (self.dims_upserted, other.dims_upserted),
            (self.dims_conflicts, other.dims_conflicts),
            (self.dims_keys, other.dims_keys),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        merge_metrics(self.rules, other.rules.values())
        self.dims_loaded = self.dims_loaded or other.dims_loaded

    def to_json(self) -> str:
        return json.dumps(
            {
                **{
                    k: getattr(self, k)
                    for k in (
                        "batches",
                        "rows_read",
                        "duplicates_in_batch",
                        "to_silver",
                        "to_quarantine",
                        "dropped",
                        "inserted",
                        "reviews_inserted",
                        "quarantined",
                        "dims_loaded",
                        "dropped_by_rule",
                        "warned_by_rule",
                        "dims_upserted",
                        "dims_conflicts",
                        "dims_keys",
                    )
                },
                "rules": [m.to_dict() for m in self.rules.values()],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Tally:
        data = json.loads(text)
        rules = data.pop("rules", [])
        tally = cls(**data)
        merge_metrics(tally.rules, [RuleMetric(**m) for m in rules])
        return tally
