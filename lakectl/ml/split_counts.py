"""The training set's counts per split and label, read from silver.reviews with delta-rs (no Spark), for
`train --dry-run`: the same rows, labels and split as lakectl.ml.dataset, whose split is Spark's
`pmod(xxhash64(seed, event_id), 1e6) / 1e6`. XXH64 is written out here (a few lines, no dependency) exactly as
Spark hashes an int and a UTF-8 string; a test compares every count with Spark's."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakectl.config import MLSettings

SPLITS = ("train", "validation", "test")
_M = 2**64 - 1
_P1, _P2, _P3, _P4, _P5 = (
    11400714785074694791,
    14029467366897019727,
    1609587929392839161,
    9650029242287828579,
    2870177450012600261,
)
SPARK_HASH_SEED = 42  # xxhash64(...)'s seed in Spark


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _M, 31) * _P1) & _M


def xxh64(data: bytes, seed: int) -> int:
    """XXH64 of `data` (unsigned)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed & _M, (seed - _P1) & _M]
        while i + 32 <= n:
            v = [_round(v[k], int.from_bytes(data[i + 8 * k : i + 8 * k + 8], "little")) for k in range(4)]
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M
        for lane in v:
            h = ((h ^ _round(0, lane)) * _P1 + _P4) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        h = (_rotl(h ^ _round(0, int.from_bytes(data[i : i + 8], "little")), 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        h = (_rotl(h ^ (int.from_bytes(data[i : i + 4], "little") * _P1 & _M), 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h = (_rotl(h ^ (data[i] * _P5 & _M), 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    return h ^ (h >> 32)


def spark_xxhash64(seed_value: int, text: str) -> int:
    """Spark's `xxhash64(lit(seed_value), text)`: signed, each column hashed with the previous result as seed."""
    width = 4 if -(2**31) <= seed_value < 2**31 else 8  # lit() of a Python int: IntegerType, else LongType
    seed = xxh64(seed_value.to_bytes(width, "little", signed=True), SPARK_HASH_SEED)
    h = xxh64(text.encode("utf-8"), seed)
    return h - 2**64 if h >= 2**63 else h


def split_of(event_id: str, ml: MLSettings) -> str:
    bucket = (spark_xxhash64(ml.split.seed, event_id) % 1_000_000) / 1_000_000.0
    train, validation = ml.split.train, ml.split.train + ml.split.validation
    return "train" if bucket < train else "validation" if bucket < validation else "test"


def counts_from_log(path: str, version: int, ml: MLSettings) -> dict[str, dict[str, int]] | None:
    """split -> {"positive": n, "negative": n} of the labelled reviews with text at `version`, as dataset.load
    counts them; None for a remote table or one delta-rs cannot read (Spark counts then)."""
    if "://" in path:
        return None
    import pyarrow as pa
    from deltalake import DeltaTable, QueryBuilder

    try:
        table = DeltaTable(path, version=version)
        reader = QueryBuilder().register("t", table).execute("SELECT event_id, review_text, rating FROM t WHERE review_text IS NOT NULL")
        rows = pa.RecordBatchReader.from_stream(reader).read_all().to_pylist()
    except Exception:  # a table feature delta-rs cannot read
        return None
    counts = {s: {"positive": 0, "negative": 0} for s in SPLITS}
    for row in rows:
        rating, text = row["rating"], row["review_text"]
        if rating is None or not text.strip(" "):  # Spark's trim() removes spaces only
            continue
        label = "positive" if rating >= ml.positive_min_rating else "negative" if rating <= ml.negative_max_rating else None
        if label is not None:
            counts[split_of(row["event_id"], ml)][label] += 1
    return counts
