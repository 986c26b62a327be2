"""A loopback Databricks workspace for tests: `python -m tests.databricks_fake` serves one by hand."""

from tests.databricks_fake.server import FakeWorkspace

__all__ = ["FakeWorkspace"]
