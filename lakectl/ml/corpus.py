"""Labelled review sentences for `generate --review-texts`: TSV / CSV `text,label` or JSON lines.

Labels may be 1/0 or positive/negative (pos/neg). The UCI "Sentiment Labelled Sentences" files
(Kotzias et al., KDD 2015) are TSV `sentence<TAB>0|1`.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from lakectl.core.errors import UsageError

_LABELS = {"1": 1, "0": 0, "positive": 1, "negative": 0, "pos": 1, "neg": 0}
ENV_DATA = "LAKECTL_SENTIMENT_DATA"


def parse_label(value: object) -> int | None:
    """1 / 0 for a positive / negative label (int, bool or text), None if it is not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    return _LABELS.get(str(value).strip().lower()) if value is not None else None


def load_review_texts(path: str | os.PathLike[str]) -> list[tuple[str, int]]:
    """(text, label) pairs from a TSV, CSV or JSON-lines file, in file order.

    The format is taken from the suffix (.jsonl/.json/.ndjson, .csv; anything else is TSV). A first
    row whose label is not a label is taken as a header. Empty lines are skipped; any other bad row
    is an error naming the file and line.
    """
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--review-texts: file not found: {file}", "pass a TSV/CSV (text<TAB>label) or JSON-lines file")
    text = file.read_text(encoding="utf-8", errors="replace")
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _json_lines(file, text)
    else:
        rows = _delimited(file, text, "," if suffix == ".csv" else "\t")
    if not rows:
        raise UsageError(f"--review-texts: {file} holds no labelled rows", "each row needs a text and a label 0/1 or negative/positive")
    if len({label for _, label in rows}) < 2:
        raise UsageError(f"--review-texts: {file} has only one label", "a sentiment corpus needs positive and negative texts")
    return rows


def _json_lines(file: Path, text: str) -> list[tuple[str, int]]:
    rows = []
    for n, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"--review-texts: {file}:{n}: invalid JSON: {exc.msg}", 'each line must be {"text": ..., "label": ...}'
            ) from None
        label = parse_label(record.get("label")) if isinstance(record, dict) else None
        body = record.get("text") if isinstance(record, dict) else None
        if not isinstance(body, str) or label is None:
            raise UsageError(f"--review-texts: {file}:{n}: needs a string `text` and a `label` 0/1 or negative/positive")
        rows.append((body.strip(), label))
    return rows


def _delimited(file: Path, text: str, delimiter: str) -> list[tuple[str, int]]:
    rows = []
    if delimiter == "\t":  # the UCI files hold unescaped quotes: split on the last tab, no CSV quoting
        records = [line.rsplit("\t", 1) if "\t" in line else [line] for line in _lines(text)]
    else:
        records = list(csv.reader(io.StringIO(text, newline="")))
    for n, record in enumerate(records, 1):
        if not record or not "".join(record).strip():
            continue
        label = parse_label(record[-1]) if len(record) >= 2 else None
        if label is None:
            if n == 1 and not rows:
                continue  # a header row
            sep = "TAB" if delimiter == "\t" else "comma"
            raise UsageError(
                f"--review-texts: {file}:{n}: expected text{'<TAB>' if delimiter == chr(9) else ','}label with a label "
                f"0/1 or negative/positive",
                f"the file is read as {sep}-separated from its suffix",
            )
        rows.append((delimiter.join(record[:-1]).strip(), label))
    return rows


def _lines(text: str) -> list[str]:
    """Lines split on \n only: str.splitlines() would also split inside a sentence at U+0085 or U+2028
    (the UCI imdb file holds a U+0085)."""
    return [line.rstrip("\r") for line in text.split("\n")]


def sentiment_data_dir(repo: Path | None = None) -> Path:
    """Where the UCI sentences are: $LAKECTL_SENTIMENT_DATA, else <repo>/../shared/data/sentiment."""
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env)
    repo = repo or Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "sentiment"
