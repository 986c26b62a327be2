"""Streaming sources for ingest. Each returns a DataFrame with a string `value` and source columns."""
