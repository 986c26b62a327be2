"""`lakectl init [DIR]`: a commented config for one target, the lake's folders, and what to run next."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from lakectl.core.errors import UsageError
from lakectl.core.results import Result

TargetKind = Literal["local", "spark", "databricks"]
FOLDERS = ("landing/events", "tables", "checkpoints", "logs")

_TARGETS = {
    "local": """\
  local:                          # Spark in this process, Delta and the Kafka connector from the jars cache
    kind: local
    master: "local[*]"
    driver_memory: ${LAKECTL_DRIVER_MEMORY:-2g}
    shuffle_partitions: 4""",
    "spark": """\
  cluster:                        # any Spark 4 cluster through Spark Connect (pip install 'lakectl[connect]')
    kind: spark
    remote: ${SPARK_REMOTE:-sc://127.0.0.1:15002}   # scripts/spark-connect-local start runs one here
    connect_timeout_s: 10""",
    "databricks": """\
  databricks:                     # a Databricks workspace through databricks-sdk unified auth
    kind: databricks
    profile: ${DATABRICKS_CONFIG_PROFILE:-DEFAULT}   # or set DATABRICKS_HOST and DATABRICKS_TOKEN
    serverless: true""",
}
_NAMES = {"local": "local", "spark": "cluster", "databricks": "databricks"}

TEMPLATE = """\
# lakectl configuration, written by `lakectl init`. Reference: README.md#configuration.
# ${{VAR}} and ${{VAR:-default}} read the environment; secrets must come from it, never from this file.
project: {project}
default_target: {default}         # --target NAME picks another

targets:
{targets}

storage:
  root: {root}   # tables/, checkpoints/, landing/ and logs/ live under it
  # catalog: main                 # address tables as catalog.schema.name (Unity Catalog) instead of paths

sources:
  files:
    max_files_per_trigger: 1000   # landing files per micro-batch
  kafka:
    bootstrap_servers: ${{KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}}   # scripts/kafka-local start
    topics: [lakectl.events]
    starting_offsets: earliest

ingest:
  trigger_interval: 10 seconds    # micro-batch interval with --continuous

# tables:                         # per-table policy; keys are lakectl tables (schema.name)
#   silver.events:
#     optimize: {{zorder_by: [customer_id], vacuum_retain_hours: 168}}
#     sla: {{freshness_minutes: 60}}   # lakectl monitor check exits 7 on a breach
"""


def render(target: TargetKind, root: Path, project: str) -> str:
    kinds = ["local"] if target == "local" else ["local", target]
    import json

    # JSON strings are YAML strings: a folder named `-`, `a: b` or `x#y` stays a plain value. A `}` would
    # end the ${...} reference early, so such a root is written without the LAKECTL_ROOT override.
    root_value = f"${{LAKECTL_ROOT:-{root}}}" if "}" not in str(root) else str(root)
    return TEMPLATE.format(
        project=json.dumps(project), default=_NAMES[target], root=json.dumps(root_value), targets="\n".join(_TARGETS[k] for k in kinds)
    )


def init(directory: str, target: TargetKind, *, force: bool = False, dry_run: bool = False) -> Result:
    """Write DIR/configs/lakectl.yaml and the lake's folders under DIR/.lakectl."""
    base = Path(directory).absolute()
    config = base / "configs" / "lakectl.yaml"
    root = base / ".lakectl"
    if config.exists() and not force:
        raise UsageError(f"{config} exists already", "pass --force to overwrite it, or init another folder")
    text = render(target, root, base.name or "lakectl")
    import yaml

    from lakectl.config import settings_from_dict

    settings_from_dict(yaml.safe_load(text), str(config))  # the template is a valid config
    folders = [root / f for f in FOLDERS]
    if not dry_run:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(text)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
    cd = "" if base == Path.cwd() else f"cd {base} && "
    next_steps = [f"{cd}lakectl doctor", "lakectl generate --events 100000", "lakectl run", "lakectl monitor tables"]
    return Result(
        job="init",
        dry_run=dry_run,
        status="dry_run" if dry_run else "ok",
        metrics={
            "config": str(config),
            "target": _NAMES[target],
            "root": str(root),
            "folders": [str(f) for f in folders],
            "next": next_steps,
        },
    )
