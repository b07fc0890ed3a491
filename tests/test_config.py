import pytest

from tlcourse import config


@pytest.mark.parametrize("profile,expected", [("smoke", 1), ("default", 3), ("full", 10)])
def test_pick_follows_the_profile(monkeypatch, profile, expected):
    monkeypatch.setenv("TLCOURSE_PROFILE", profile)
    assert config.pick(smoke=1, default=3, full=10) == expected


def test_full_falls_back_to_default(monkeypatch):
    monkeypatch.setenv("TLCOURSE_PROFILE", "full")
    assert config.pick(smoke=1, default=3) == 3


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TLCOURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="smoke, default, full"):
        config.profile()


def test_build_dir_is_at_the_repository_root_whatever_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TLCOURSE_BUILD_DIR", raising=False)
    root = config.repo_root()
    monkeypatch.chdir(tmp_path)
    assert config.build_dir() == root / "build"
    assert (root / "pyproject.toml").exists()
    monkeypatch.setenv("TLCOURSE_BUILD_DIR", "build/smoke")  # what make test uses, also from notebooks/
    assert config.build_dir() == root / "build" / "smoke"
