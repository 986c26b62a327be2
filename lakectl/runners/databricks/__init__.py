"""The Databricks target: lakectl's wheel submitted as a one-time run (jobs.submit), watched and cancellable.

Only this package imports databricks-sdk, and only inside functions (`lakectl --help` stays light).
"""
