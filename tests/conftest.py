import os

import pytest

# `python -m pytest` is the test command on every platform, the same as `make test`: offline, the smoke profile,
# its metrics in build/smoke/. The notebooks' kernels inherit these.
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the course's tests never reach for the hub
os.environ.setdefault("TLCOURSE_PROFILE", "smoke")
os.environ.setdefault("TLCOURSE_BUILD_DIR", "build/smoke")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty TLCOURSE_CACHE, so a test can build, corrupt and rebuild without touching the real one."""
    monkeypatch.setenv("TLCOURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def pytest_collection_modifyitems(config, items):
    """A notebook that needs a dataset this machine lacks is reported as skipped, with the fix, not as failed."""
    from pathlib import Path

    from tlcourse.course.runner import skip_reason

    reasons = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            if path not in reasons:
                reasons[path] = skip_reason(path)
            if reasons[path]:
                item.add_marker(pytest.mark.skip(reason=reasons[path]))
