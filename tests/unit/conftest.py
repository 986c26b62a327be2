"""Unit tests keep lakectl's cache (the parsed-config cache) in their own folder, not the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKECTL_CACHE", str(tmp_path_factory.mktemp("lakectl-cache")))
