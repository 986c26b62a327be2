"""Embedded engines that answer without a JVM (DuckDB for read-only queries on local tables)."""
