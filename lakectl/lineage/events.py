"""OpenLineage run events of one lakectl job run, built with openlineage-python's own classes.

A run's id is a UUID derived from lakectl's run id (the same id in ops.runs), so that a stage's
ParentRunFacet names its parent's run without any state shared between them. lakectl's run id,
target and figures travel as run tags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lakectl import __version__
from lakectl.lineage.model import Dataset, JobLineage, Output

if TYPE_CHECKING:
    from openlineage.client.event_v2 import RunEvent

PRODUCER = f"urn:lakectl:{__version__}"
_RUN_NAMESPACE = uuid.UUID("6c616b65-6374-6c00-8000-6c696e656167")  # fixed: the same lakectl run id gives the same UUID


def run_uuid(run_id: str) -> str:
    """The OpenLineage runId (a UUID) of a lakectl run id."""
    return str(uuid.uuid5(_RUN_NAMESPACE, run_id))


def run_event(
    state: str,
    *,
    namespace: str,
    job: str,
    run_id: str,
    parent: tuple[str, str] | None = None,
    lineage: JobLineage | None = None,
    tags: dict[str, str] | None = None,
    error: str | None = None,
    streaming: bool = False,
    at: datetime | None = None,
) -> RunEvent:
    """A START, COMPLETE or FAIL event. parent: (job, lakectl run id) of the run this one is a stage of."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import error_message_run, job_type_job, parent_run, tags_run

    run_facets: dict[str, Any] = {
        "tags": tags_run.TagsRunFacet(
            tags=[tags_run.TagsRunFacetFields(k, v, "LAKECTL") for k, v in {"lakectl.run_id": run_id, **(tags or {})}.items()],
            producer=PRODUCER,
        )
    }
    if parent is not None:
        parent_job, parent_id = parent
        run_facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_uuid(parent_id)), job=parent_run.Job(namespace=namespace, name=parent_job), producer=PRODUCER
        )
    if error is not None:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(message=error, programmingLanguage="python", producer=PRODUCER)
    job_facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="STREAMING" if streaming else "BATCH", integration="LAKECTL", jobType="JOB", producer=PRODUCER
        )
    }
    inputs = [InputDataset(namespace=d.namespace, name=d.name, facets=_dataset_facets(d)) for d in (lineage.inputs if lineage else [])]
    outputs = [
        OutputDataset(namespace=o.dataset.namespace, name=o.dataset.name, facets=_output_facets(o))
        for o in (lineage.outputs if lineage else [])
    ]
    return RunEvent(
        eventType=RunState[state],
        eventTime=(at or datetime.now(UTC)).isoformat(),
        run=Run(runId=run_uuid(run_id), facets=run_facets),
        job=Job(namespace=namespace, name=job, facets=job_facets),
        producer=PRODUCER,
        inputs=inputs,
        outputs=outputs,
    )


def _dataset_facets(d: Dataset) -> dict[str, Any]:
    from openlineage.client.facet_v2 import schema_dataset, symlinks_dataset

    facets: dict[str, Any] = {}
    if d.fields:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in d.fields], producer=PRODUCER
        )
    if d.table:  # the lake's name for a table addressed by its path (as OpenLineage's Spark integration names catalog tables)
        facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
            identifiers=[symlinks_dataset.Identifier(namespace="lakectl", name=d.table, type="TABLE")], producer=PRODUCER
        )
    return facets


def _output_facets(o: Output) -> dict[str, Any]:
    from openlineage.client.facet_v2 import column_lineage_dataset as cl

    facets = _dataset_facets(o.dataset)
    if o.columns:
        facets["columnLineage"] = cl.ColumnLineageDatasetFacet(
            fields={
                column: cl.Fields(
                    inputFields=[
                        cl.InputField(
                            namespace=s.dataset.namespace,
                            name=s.dataset.name,
                            field=s.column,
                            transformations=[cl.Transformation(type="DIRECT", subtype=s.subtype)],
                        )
                        for s in sources
                    ]
                )
                for column, sources in o.columns.items()
                if sources
            },
            producer=PRODUCER,
        )
    return facets


def to_json(event: RunEvent) -> str:
    from openlineage.client.serde import Serde

    return Serde.to_json(event)
