"""A real open-source Unity Catalog server for integration tests, and its admin client: lakectl.services.uc,
under the names the tests and benchmarks import (`from uc_server import start_server`). No pytest import here."""

from __future__ import annotations

from lakectl.services.uc import UcAdmin, UcServer, UcServerError, start_server
from lakectl.services.uc import run_uc_script as _script

__all__ = ["UcAdmin", "UcServer", "UcServerError", "_script", "start_server"]
