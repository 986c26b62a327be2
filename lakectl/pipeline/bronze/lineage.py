"""Column lineage of bronze: every event column is parsed out of the source record (`value`), which bronze
keeps whole in `raw`. Sources are named by key: SOURCE is whatever the ingest read (a landing folder, a topic)."""

from __future__ import annotations

from lakectl.pipeline.bronze.parse import EVENT_FIELDS

SOURCE = "<source>"
ColumnMap = dict[str, list[tuple[str, str, str]]]  # output column -> [(source key, column, subtype)]

BRONZE_EVENTS: ColumnMap = {
    **{name: [(SOURCE, "value", "TRANSFORMATION")] for name, _ in EVENT_FIELDS},
    "raw": [(SOURCE, "value", "IDENTITY")],
}
BRONZE_QUARANTINE: ColumnMap = {
    "raw": [(SOURCE, "value", "IDENTITY")],
    "reason": [(SOURCE, "value", "TRANSFORMATION")],
    "event_id": [(SOURCE, "value", "TRANSFORMATION")],
}
