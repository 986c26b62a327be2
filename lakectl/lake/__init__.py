"""Delta helpers: Spark SQL and delta-rs reads and appends, streaming utilities, pre-flight checks."""
