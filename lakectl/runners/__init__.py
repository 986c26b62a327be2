"""Where a job runs: in-process local Spark, a Spark 4 cluster, or (later) Databricks."""
