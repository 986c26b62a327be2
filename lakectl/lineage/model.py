"""What a job run read and wrote, as lineage sees it: datasets, their schemas, and which input columns
feed each output column. Plain data: the jobs floor fills it, events.py turns it into OpenLineage."""

from __future__ import annotations

from dataclasses import dataclass, field

# OpenLineage's column-lineage transformation subtypes lakectl uses (DIRECT ones).
IDENTITY, TRANSFORMATION, AGGREGATION = "IDENTITY", "TRANSFORMATION", "AGGREGATION"


@dataclass(frozen=True)
class Dataset:
    """A dataset as OpenLineage names it (namespace + name: `file` + a path, `kafka://host:port` + a
    topic), with lakectl's own name for it when it is a lake table (`silver.events`)."""

    namespace: str
    name: str
    table: str | None = None
    fields: tuple[tuple[str, str], ...] = ()  # (column, type) from the table's Delta log

    @property
    def label(self) -> str:
        return self.table or (self.name if self.namespace == "file" else f"{self.namespace}/{self.name}")


@dataclass(frozen=True)
class ColumnSource:
    dataset: Dataset
    column: str
    subtype: str = TRANSFORMATION


@dataclass
class Output:
    dataset: Dataset
    columns: dict[str, list[ColumnSource]] = field(default_factory=dict)  # output column -> its direct sources


@dataclass
class JobLineage:
    inputs: list[Dataset] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)


def path_dataset(path: str, table: str | None = None, fields: tuple[tuple[str, str], ...] = ()) -> Dataset:
    """OpenLineage's naming of a path: `file` + the absolute path locally, `scheme://authority` + the path
    for an object store (s3://bucket/x -> namespace s3://bucket, name /x)."""
    if "://" not in path:
        return Dataset("file", path, table, fields)
    scheme, _, rest = path.partition("://")
    authority, _, tail = rest.partition("/")
    return Dataset(f"{scheme}://{authority}", "/" + tail, table, fields)
