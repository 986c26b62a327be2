"""Where jobs run: `targets.NAME` (local Spark, a Spark 4 cluster, a Databricks workspace)."""

from __future__ import annotations

import re
from typing import Annotated

from msgspec import Meta, field

from lakectl.core.typed import Struct

# Access modes with Unity Catalog (the legacy ones and NONE have none).
UC_ACCESS_MODES = (
    "DATA_SECURITY_MODE_AUTO",
    "DATA_SECURITY_MODE_STANDARD",
    "DATA_SECURITY_MODE_DEDICATED",
    "USER_ISOLATION",
    "SINGLE_USER",
)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Target(Struct):
    """A target; subclasses name their `kind` tag, which picks the class when the config is read."""

    @property
    def kind(self) -> str:
        return str(self.__struct_config__.tag)


class LocalTarget(_Target, tag_field="kind", tag="local"):
    master: str = "local[*]"
    driver_memory: str = "2g"
    shuffle_partitions: Annotated[int, Meta(ge=1)] = 4
    spark_conf: dict[str, str] = field(default_factory=dict)


class SparkTarget(_Target, tag_field="kind", tag="spark"):
    """Any Spark 4 cluster: a Spark Connect URL (sc://host:15002) or a master URL."""

    remote: str | None = None
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    connect_timeout_s: Annotated[float, Meta(gt=0)] = 10.0  # bound on reaching a Spark Connect server before a job starts

    def __post_init__(self) -> None:
        if bool(self.remote) == bool(self.master):
            raise ValueError("set exactly one of `remote` (sc://host:15002) or `master`")
        if self.remote and not self.remote.startswith("sc://"):
            raise ValueError("`remote` must be a Spark Connect URL starting with sc://")


class DatabricksTarget(_Target, tag_field="kind", tag="databricks"):
    """A Databricks workspace, reached through databricks-sdk unified auth (profile or host + token env).

    Compute: `serverless: true`, an existing `cluster_id`, or a new job cluster (`spark_version` +
    `node_type_id`). See docs/targets.md.
    """

    profile: str | None = None
    host: str | None = None
    cluster_id: str | None = None
    serverless: bool = False
    spark_version: str | None = None
    node_type_id: str | None = None
    num_workers: Annotated[int, Meta(ge=0)] = 1
    environment_version: str = "4"  # serverless environment version
    artifact_path: str | None = None  # /Volumes/c/s/v/dir or /Workspace/...; default /Workspace/Users/<me>/.lakectl/wheels
    timeout_minutes: Annotated[float, Meta(gt=0)] = 60  # bound on one run, unless --timeout says otherwise
    poll_interval_s: Annotated[float, Meta(gt=0)] = 5.0
    connect_timeout_s: Annotated[int, Meta(ge=1)] = 30  # the SDK's retry budget per API call (its default is 300 s)
    warehouse_id: str | None = None  # `lakectl query` runs on this SQL warehouse instead of as a job
    # New job clusters: an access mode that reaches Unity Catalog (AUTO picks Standard or Dedicated per run),
    # and a cluster policy the workspace may require.
    data_security_mode: str = "DATA_SECURITY_MODE_AUTO"
    policy_id: str | None = None
    # The job's environment variables (spark_env_vars on a new cluster, the job's environment variables on
    # serverless): plain values, or {{secrets/scope/key}} for what must stay secret. See docs/targets.md.
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        chosen = [
            n for n, on in (("serverless", self.serverless), ("cluster_id", self.cluster_id), ("spark_version", self.spark_version)) if on
        ]
        if len(chosen) > 1:
            raise ValueError(f"choose one compute: serverless, cluster_id or spark_version + node_type_id (got {', '.join(chosen)})")
        if self.artifact_path and not self.artifact_path.startswith(("/Volumes/", "/Workspace/")):
            raise ValueError("`artifact_path` must start with /Volumes/ (a Unity Catalog volume) or /Workspace/")
        if self.data_security_mode not in UC_ACCESS_MODES:
            raise ValueError(
                f"data_security_mode {self.data_security_mode!r} cannot reach Unity Catalog: use one of {', '.join(UC_ACCESS_MODES)}"
            )
        bad = [k for k in self.env if not ENV_NAME.fullmatch(k)]
        if bad:
            raise ValueError(f"env: {bad[0]!r} is not an environment variable name (letters, digits, _; not starting with a digit)")
        if self.env and self.cluster_id:
            raise ValueError("env cannot be set per run on an existing cluster: set them in the cluster's spark_env_vars instead")
        if self.env and self.serverless and _major(self.environment_version) < 5:
            raise ValueError("env on serverless needs environment_version 5 or later (the jobs' environment variables)")


def _major(version: str) -> int:
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0


Target = LocalTarget | SparkTarget | DatabricksTarget  # chosen by the `kind` key
