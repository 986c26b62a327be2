"""lakectl monitor: the run ledger, table/stream/quality health, SLAs, alerts and reports.

Everything here reads Delta logs with delta-rs (no JVM); only the ingest progress recorder is
called from a job that already has a SparkSession, and it does not use it.
"""
