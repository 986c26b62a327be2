"""Realistic, seeded synthetic data for the customer-behaviour use case.

Pure Python (no Spark): sessions of events that walk the funnel page_view -> click -> add_to_cart
-> purchase, with reviews whose 1-5 rating agrees with the text (with some noise; texts in
lakectl.datagen.reviews), an evening-heavy time-of-day profile, and optional malformed records,
written as JSON-lines part files beside the customers and products (lakectl.datagen.dimensions).
Same arguments and seed give byte-identical files.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lakectl.datagen.dimensions import dimension_rows, write_dimensions
from lakectl.datagen.reviews import RATING_WEIGHTS, CorpusDraw, review_text
from lakectl.datagen.weighted import bisect_cum, choice_table

EVENT_TYPES = ("page_view", "click", "add_to_cart", "purchase", "review")
SEGMENT_ACTIVITY = {"new": 1.0, "regular": 1.6, "loyal": 2.6, "vip": 4.0}
# Share of events per hour of day (UTC): quiet at night, peaks in the evening.
HOUR_WEIGHTS = (1.2, 0.8, 0.5, 0.4, 0.4, 0.6, 1.2, 2.4, 3.4, 3.8, 4.0, 4.3, 4.8, 4.6, 4.3, 4.2, 4.5, 5.0, 5.9, 6.6, 6.9, 6.1, 4.4, 2.4)
CHUNK_EVENTS = 250_000
BAD_KINDS = ("malformed_json", "type_mismatch", "missing_event_id", "unknown_event_type")


@dataclass
class GenerateResult:
    events: int = 0
    valid_events: int = 0
    duplicates: int = 0
    bad_records: int = 0
    bad_by_kind: dict[str, int] = field(default_factory=lambda: {k: 0 for k in BAD_KINDS})
    event_types: dict[str, int] = field(default_factory=lambda: {k: 0 for k in EVENT_TYPES})
    customers: int = 0
    products: int = 0
    files: list[str] = field(default_factory=list)

    def merge(self, other: GenerateResult) -> None:
        for name in ("events", "valid_events", "duplicates", "bad_records"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.bad_by_kind.items():
            self.bad_by_kind[k] += v
        for k, v in other.event_types.items():
            self.event_types[k] += v
        self.files += other.files


def resolve_start(start: datetime | None, days: float) -> datetime:
    """The first instant (UTC) of the generated range; by default the `days` before today's midnight (UTC)."""
    start = start or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)


def file_tag(seed: int, start: datetime, events: int) -> str:
    """The part of every file name that depends on the arguments: the same run writes the same names."""
    return f"s{seed}-{start.strftime('%Y%m%dT%H%M')}-{events}"


def generate(
    out_dir: Path,
    events: int,
    *,
    seed: int = 42,
    start: datetime | None = None,
    days: float = 1.0,
    bad_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
    customers: int | None = None,
    products: int | None = None,
    file_rows: int = 100_000,
    review_texts: Sequence[tuple[str, int]] | None = None,
    neutral_share: float = 0.1,
    dry_run: bool = False,
) -> GenerateResult:
    """Write `events` JSON-lines records under out_dir/events (+ customers/ and products/).

    A dry run draws the same lines and writes nothing: the result holds the figures (lines,
    duplicates, files, ...) the run with the same arguments writes. With `review_texts` ((text, label) pairs),
    review events take their text from it (see CorpusDraw) instead of the built-in templates."""
    if events < 0:
        raise ValueError("events must be >= 0")
    if not 0 <= bad_fraction < 1 or not 0 <= duplicate_fraction < 1:
        raise ValueError("fractions must be in [0, 1)")
    start = resolve_start(start, days)
    cust, prod = dimension_rows(events, seed=seed, start=start, customers=customers, products=products)
    result = GenerateResult(customers=len(cust), products=len(prod))
    tag = file_tag(seed, start, events)
    result.files += write_dimensions(out_dir, tag, cust, prod, dry_run=dry_run)

    events_dir = Path(out_dir) / "events"
    if not dry_run:
        events_dir.mkdir(parents=True, exist_ok=True)
    # Fixed-size chunks, each with its own derived seed: the output depends on the arguments only,
    # never on how many processes wrote it.
    chunks = [(i, min(CHUNK_EVENTS, events - i * CHUNK_EVENTS)) for i in range(math.ceil(events / CHUNK_EVENTS))]
    texts = (review_texts, neutral_share)
    args = [
        (events_dir, dry_run, f"{tag}-c{i:03d}", n, seed, i, start, days, cust, prod, bad_fraction, duplicate_fraction, file_rows, texts)
        for i, n in chunks
    ]
    workers = min(len(args), os.cpu_count() or 1)
    if workers > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers) as pool:
            parts = pool.map(_write_chunk, args)
    else:
        parts = [_write_chunk(a) for a in args]
    for part in parts:
        result.merge(part)
    return result


def iter_event_lines(
    events: int,
    *,
    seed: int = 42,
    start: datetime | None = None,
    days: float = 1.0,
    bad_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
    customers: int | None = None,
    products: int | None = None,
    result: GenerateResult | None = None,
    review_texts: Sequence[tuple[str, int]] | None = None,
    neutral_share: float = 0.1,
) -> Iterator[str]:
    """The same event lines `generate()` writes for these arguments (same chunk seeds, same order),
    yielded one by one without touching disk; `result` (if given) is filled in as lines are yielded."""
    if events < 0:
        raise ValueError("events must be >= 0")
    start = resolve_start(start, days)
    cust, prod = dimension_rows(events, seed=seed, start=start, customers=customers, products=products)
    result = result if result is not None else GenerateResult()
    result.customers, result.products = len(cust), len(prod)
    for i in range(math.ceil(events / CHUNK_EVENTS)):
        n = min(CHUNK_EVENTS, events - i * CHUNK_EVENTS)
        yield from _event_lines(
            random.Random(f"{seed}/{i}"),
            n,
            start,
            days,
            cust,
            prod,
            bad_fraction,
            duplicate_fraction,
            result,
            (review_texts, neutral_share),
        )


def _write_chunk(args: tuple) -> GenerateResult:
    events_dir, dry_run, tag, n, seed, index, start, days, cust, prod, bad_fraction, duplicate_fraction, file_rows, texts = args
    rng = random.Random(f"{seed}/{index}")
    result = GenerateResult()
    writer = _PartWriter(events_dir, tag, file_rows, result, dry_run=dry_run)
    for line in _event_lines(rng, n, start, days, cust, prod, bad_fraction, duplicate_fraction, result, texts):
        writer.write(line)
    writer.close()
    return result


class _PartWriter:
    """Lines into numbered part files of `rows_per_file` lines; a dry run only names the files."""

    def __init__(self, directory: Path, tag: str, rows_per_file: int, result: GenerateResult, *, dry_run: bool = False) -> None:
        self.directory, self.tag, self.rows_per_file, self.result = directory, tag, max(1, rows_per_file), result
        self.dry_run = dry_run
        self.buf: list[str] = []
        self.part = 0

    def write(self, line: str) -> None:
        self.buf.append(line)
        if len(self.buf) >= self.rows_per_file:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        path = self.directory / f"events-{self.tag}-{self.part:05d}.jsonl"
        if not self.dry_run:
            tmp = path.with_suffix(".tmp")
            tmp.write_text("\n".join(self.buf) + "\n")
            tmp.rename(path)  # atomic: a file stream never sees a half-written file
        self.result.files.append(str(path))
        self.part += 1
        self.buf = []

    def close(self) -> None:
        self.flush()


def _event_lines(rng, n, start, days, cust, prod, bad_fraction, duplicate_fraction, result, texts=(None, 0.0)):
    span = days * 86400.0
    corpus = CorpusDraw(rng, texts[0], texts[1]) if texts[0] else None
    hours, hour_cum = choice_table(tuple((h, w) for h, w in enumerate(HOUR_WEIGHTS)))
    activity = [SEGMENT_ACTIVITY[c["segment"]] for c in cust]
    act_cum, acc = [], 0.0
    for a in activity:
        acc += a
        act_cum.append(acc)
    rating_v, rating_w = choice_table(RATING_WEIGHTS)
    by_category: dict[str, list[dict]] = {}
    for p in prod:
        by_category.setdefault(p["category"], []).append(p)
    categories = list(by_category)
    start_ts = start.timestamp()
    n_days = max(1, math.ceil(days))
    emitted = 0
    recent: list[str] = []
    dumps = json.dumps

    minute_prefix: dict[int, str] = {}

    end_ms = int((start_ts + span) * 1000) - 1

    def stamp(ts: float) -> str:
        ms = min(int(ts * 1000), end_ms)  # sessions that run past the range end are kept inside it
        minute, rest = divmod(ms, 60_000)
        prefix = minute_prefix.get(minute)
        if prefix is None:
            prefix = minute_prefix[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        return f"{prefix}{rest // 1000:02d}.{rest % 1000:03d}Z"

    while emitted < n:
        c = cust[bisect_cum(act_cum, rng.random() * acc)]
        day = rng.randrange(n_days)
        hour = hours[bisect_cum(hour_cum, rng.random())]
        t = start_ts + day * 86400 + hour * 3600 + rng.random() * 3600
        if t >= start_ts + span:
            t = start_ts + rng.random() * span
        session = f"{rng.getrandbits(64):016x}"
        device = c["preferred_device"] if rng.random() < 0.85 else rng.choice(("mobile", "desktop", "tablet"))
        country = c["country"]
        cat = rng.choice(categories)
        cart: list[tuple[dict, int]] = []
        for _ in range(1 + min(11, int(rng.expovariate(0.45)))):
            p = rng.choice(by_category[cat]) if rng.random() < 0.7 else rng.choice(prod)
            steps = ["page_view"]
            if rng.random() < 0.38:
                steps.append("click")
                if rng.random() < 0.27:
                    steps.append("add_to_cart")
            for et in steps:
                qty = rng.randint(1, 3) if et == "add_to_cart" else None
                if qty:
                    cart.append((p, qty))
                t += rng.uniform(2, 90)
                yield from _emit(
                    rng,
                    et,
                    t,
                    c,
                    session,
                    p,
                    qty,
                    None,
                    None,
                    device,
                    country,
                    stamp,
                    dumps,
                    result,
                    recent,
                    bad_fraction,
                    duplicate_fraction,
                )
                emitted += 1
                if emitted >= n:
                    return
        if cart and rng.random() < 0.55:
            for p, qty in cart:
                t += rng.uniform(1, 20)
                yield from _emit(
                    rng,
                    "purchase",
                    t,
                    c,
                    session,
                    p,
                    qty,
                    None,
                    None,
                    device,
                    country,
                    stamp,
                    dumps,
                    result,
                    recent,
                    bad_fraction,
                    duplicate_fraction,
                )
                emitted += 1
                if emitted >= n:
                    return
                if rng.random() < 0.22:
                    if corpus is not None:
                        text, rating = corpus.draw(rng)
                    else:
                        rating = rating_v[bisect_cum(rating_w, rng.random())]
                    rt = min(t + rng.uniform(600, 3 * 86400), start_ts + span - 1)
                    if corpus is None:
                        text = review_text(rng, rating, p["category"].rstrip("s") if p["category"] != "electronics" else "gadget")
                    yield from _emit(
                        rng,
                        "review",
                        max(rt, t),
                        c,
                        session,
                        p,
                        None,
                        text,
                        rating,
                        device,
                        country,
                        stamp,
                        dumps,
                        result,
                        recent,
                        bad_fraction,
                        duplicate_fraction,
                    )
                    emitted += 1
                    if emitted >= n:
                        return


def _emit(rng, et, t, c, session, p, qty, text, rating, device, country, stamp, dumps, result, recent, bad_fraction, duplicate_fraction):
    if bad_fraction and rng.random() < bad_fraction:
        kind = BAD_KINDS[rng.randrange(len(BAD_KINDS))]
        result.bad_records += 1
        result.bad_by_kind[kind] += 1
        result.events += 1
        yield _bad_record(rng, kind, et, t, c, p, stamp, dumps)
        return
    if duplicate_fraction and recent and rng.random() < duplicate_fraction:
        result.duplicates += 1
        result.events += 1
        yield recent[rng.randrange(len(recent))]
    price = None
    if et in ("add_to_cart", "purchase"):
        price = p["list_price"] if rng.random() < 0.8 else round(p["list_price"] * rng.uniform(0.7, 0.95), 2)
    # A little realistic mess that silver normalises: case, whitespace, aliases.
    dev = device if rng.random() > 0.03 else rng.choice((device.upper(), f" {device} ", "iPhone" if device == "mobile" else device.title()))
    cty = country if rng.random() > 0.03 else rng.choice((country.lower(), f" {country}"))
    # Hand-formatted JSON (3x faster than json.dumps here); only free text needs escaping.
    line = (
        f'{{"event_id":"{rng.getrandbits(128):032x}","event_type":"{et}","event_time":"{stamp(t)}",'
        f'"customer_id":"{c["customer_id"]}","session_id":"{session}","product_id":"{p["product_id"]}",'
        f'"price":{"null" if price is None else price},"quantity":{"null" if qty is None else qty},'
        f'"review_text":{"null" if text is None else dumps(text)},"rating":{"null" if rating is None else rating},'
        f'"device":"{dev}","country":"{cty}"}}'
    )
    result.events += 1
    result.valid_events += 1
    result.event_types[et] += 1
    if duplicate_fraction:
        if len(recent) < 1000:
            recent.append(line)
        else:
            recent[rng.randrange(1000)] = line
    yield line


def _bad_record(rng, kind, et, t, c, p, stamp, dumps) -> str:
    rec = {
        "event_id": f"{rng.getrandbits(128):032x}",
        "event_type": et,
        "event_time": stamp(t),
        "customer_id": c["customer_id"],
        "product_id": p["product_id"],
        "price": p["list_price"],
        "quantity": 1,
    }
    if kind == "malformed_json":
        line = dumps(rec, separators=(",", ":"))
        return line[: rng.randrange(5, len(line) - 2)]
    if kind == "type_mismatch":
        rec[rng.choice(("price", "quantity", "event_time"))] = rng.choice(("N/A", "twelve", "yesterday", "1O.5"))
    elif kind == "missing_event_id":
        rec.pop("event_id") if rng.random() < 0.5 else rec.update(event_id=None)
    elif kind == "unknown_event_type":
        rec["event_type"] = rng.choice(("hover", "wishlist", "PAGEVIEW", ""))
    return dumps(rec, separators=(",", ":"))
