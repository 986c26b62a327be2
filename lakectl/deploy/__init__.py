"""`lakectl deploy`: the config's `schedules:` as Databricks jobs (or crontab lines on a local target)."""
