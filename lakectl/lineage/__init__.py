"""Lineage: OpenLineage run events of lakectl's jobs (built with openlineage-python), their transports,
and the graph of tables, jobs and columns read back from what was recorded. The jobs floor says what each
job read and wrote; this package knows no job."""
