import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the course's tests never reach for the hub


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty TLCOURSE_CACHE, so a test can build, corrupt and rebuild without touching the real one."""
    monkeypatch.setenv("TLCOURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
