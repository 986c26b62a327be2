"""--json output carries timestamps in ISO 8601 with their zone, whatever produced them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from lakectl.cli.render import render_result
from lakectl.core.results import Result


def test_timestamps_in_json_always_carry_a_zone(capsys):
    naive = datetime(2026, 11, 30, 9, 15, 0)  # what a TIMESTAMP read back from a UTC session can look like
    aware = datetime(2026, 11, 30, 10, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    result = Result(
        job="query", metrics={"columns": ["at", "day"], "rows": [[naive, date(2026, 11, 30)], [aware, None]], "freshest": naive}
    )
    render_result(result, as_json=True)
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == [["2026-11-30T09:15:00+00:00", "2026-11-30"], ["2026-11-30T10:15:00+01:00", None]]
    assert doc["freshest"] == "2026-11-30T09:15:00+00:00"
    for value in (doc["rows"][0][0], doc["rows"][1][0], doc["freshest"]):
        assert datetime.fromisoformat(value).tzinfo is not None
