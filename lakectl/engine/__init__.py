"""Where work runs: JobContext, Spark sessions (local, Connect, Databricks runtime), the SQL engines."""
