"""The figures of one replay of one quarantine table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ReplayOutcome:
    layer: str
    quarantine: str  # the table replayed, display name
    target: str  # the next layer's table
    reviews: str | None = None  # silver.reviews, which a silver replay also writes
    replayed: int = 0  # quarantine rows taken (not yet moved or dropped, matching --rule/--since)
    moved: int = 0  # pass today's parsing and rules: in the next layer now
    dropped: int = 0  # fail only drop rules: discarded, marked dropped
    still_failing: int = 0  # stay in quarantine with their new reason
    reason_changed: int = 0  # of those, how many now fail for another reason than before
    inserted: int = 0  # rows the next layer did not hold yet (0 when a killed replay had already written them)
    reviews_inserted: int = 0
    marked: int = 0  # quarantine rows whose replay columns this run changed
    skipped_without_key: int = 0  # silver rows without event_id: nothing to key an exactly-once write on
    failing_by_rule: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
