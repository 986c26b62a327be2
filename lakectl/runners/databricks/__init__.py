"""The Databricks target: lakectl's wheel submitted as a one-time run (jobs.submit), watched and cancellable.
(SQL-only jobs run in process on the target's warehouse instead: lakectl/engine/warehouse.py.)

databricks-sdk is imported only inside functions (`lakectl --help` stays light).
"""
