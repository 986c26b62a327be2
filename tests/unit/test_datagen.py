from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from lakectl.datagen.events import generate

START = datetime(2026, 11, 1, tzinfo=UTC)


def read_lines(out: Path) -> list[str]:
    return [l for f in sorted((out / "events").glob("*.jsonl")) for l in f.read_text().splitlines()]


def digest(out: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(out.rglob("*.jsonl")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate(tmp_path / "a", 3000, seed=7, start=START, bad_fraction=0.02)
    b = generate(tmp_path / "b", 3000, seed=7, start=START, bad_fraction=0.02)
    generate(tmp_path / "c", 3000, seed=8, start=START, bad_fraction=0.02)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert a.bad_by_kind == b.bad_by_kind


def test_counts_agree_with_files(tmp_path):
    r = generate(tmp_path, 20_000, seed=1, start=START, bad_fraction=0.05)
    lines = read_lines(tmp_path)
    assert len(lines) == r.events == 20_000
    good = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        good.append(rec)
    valid = [
        g
        for g in good
        if g.get("event_id")
        and g.get("event_type") in r.event_types
        and not any(isinstance(g.get(k), str) for k in ("price", "quantity"))
        and g.get("event_time") not in ("N/A", "twelve", "yesterday", "1O.5")
    ]
    assert len(valid) == r.valid_events
    assert r.valid_events + r.bad_records == r.events
    assert 0.04 < r.bad_records / r.events < 0.06
    assert len({g["event_id"] for g in valid}) == len(valid)


def test_funnel_time_of_day_and_review_tone(tmp_path):
    r = generate(tmp_path, 40_000, seed=3, start=START)
    events = [json.loads(l) for l in read_lines(tmp_path)]
    types = Counter(e["event_type"] for e in events)
    assert types["page_view"] > types["click"] > types["add_to_cart"] > types["purchase"] > types["review"] > 0
    hours = Counter(int(e["event_time"][11:13]) for e in events)
    assert sum(hours[h] for h in (18, 19, 20, 21)) > 3 * sum(hours[h] for h in (2, 3, 4, 5))
    assert all(e["event_time"].startswith("2026-11-01") for e in events)
    reviews = [e for e in events if e["event_type"] == "review"]
    positive_words = ("love", "great", "excellent", "fantastic", "happy", "solid", "wonderful", "best")
    agree = sum((any(w in e["review_text"].lower() for w in positive_words)) == (e["rating"] >= 4) for e in reviews if e["rating"] != 3)
    assert agree / len([e for e in reviews if e["rating"] != 3]) > 0.9
    purchases = [e for e in events if e["event_type"] == "purchase"]
    assert all(e["price"] > 0 and 1 <= e["quantity"] <= 3 for e in purchases)
    assert r.customers == 800 and {e["customer_id"] for e in events} <= {f"C{i:07d}" for i in range(800)}


def test_dimensions_written(tmp_path):
    generate(tmp_path, 1000, seed=2, start=START)
    customers = [json.loads(l) for f in (tmp_path / "customers").glob("*.jsonl") for l in f.read_text().splitlines()]
    products = [json.loads(l) for f in (tmp_path / "products").glob("*.jsonl") for l in f.read_text().splitlines()]
    assert len(customers) == 50 and {c["segment"] for c in customers} <= {"new", "regular", "loyal", "vip"}
    assert len(products) == 20 and all(p["list_price"] > 0 for p in products)


def test_a_dry_run_reports_the_lines_the_run_writes(tmp_path):
    args = dict(seed=4, start=START, bad_fraction=0.03, duplicate_fraction=0.05, file_rows=700)
    dry = generate(tmp_path / "dry", 3000, dry_run=True, **args)
    assert not (tmp_path / "dry").exists()
    ran = generate(tmp_path / "dry", 3000, **args)
    assert (dry.events, dry.valid_events, dry.bad_records, dry.duplicates, dry.event_types, dry.files) == (
        ran.events,
        ran.valid_events,
        ran.bad_records,
        ran.duplicates,
        ran.event_types,
        ran.files,
    )
    assert len(read_lines(tmp_path / "dry")) == ran.events == 3000 + ran.duplicates  # duplicates are extra lines
    assert sorted(str(f) for f in (tmp_path / "dry").rglob("*.jsonl")) == sorted(ran.files)
