import pytest

from tlcourse.course import config


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


def test_a_read_only_checkout_gets_a_build_folder_per_user(tmp_path, monkeypatch):
    monkeypatch.delenv("TLCOURSE_BUILD_DIR", raising=False)
    monkeypatch.setenv("TLCOURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(config.os, "access", lambda path, mode: False)  # a shared checkout, not writable
    assert config.build_dir() == tmp_path / "cache" / "build"
    monkeypatch.setenv("TLCOURSE_BUILD_DIR", "build/smoke")
    assert config.build_dir() == tmp_path / "cache" / "build" / "smoke"


def test_threads_follow_tlcourse_threads_then_the_container_quota(tmp_path, monkeypatch, capsys):
    from tlcourse.course import env

    monkeypatch.setenv("TLCOURSE_THREADS", "1")
    assert env.usable_cpus() == 1
    import torch

    before = torch.get_num_threads()
    try:
        env.setup(seed=0)
        assert torch.get_num_threads() == 1 and "threads=1" in capsys.readouterr().out
        monkeypatch.delenv("TLCOURSE_THREADS")
        (tmp_path / "cpu.max").write_text("100000 100000\n")  # cgroup v2: a quota of 1 core
        assert env.cgroup_cpu_limit(tmp_path) == 1.0
        monkeypatch.setattr(env, "cgroup_cpu_limit", lambda root=None: 1.0)
        monkeypatch.setattr(env.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
        assert env.usable_cpus() == 1
        env.setup(seed=0)
        assert torch.get_num_threads() == 1 and "threads=1" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)
    monkeypatch.undo()
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert env.cgroup_cpu_limit(tmp_path) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("250000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert env.cgroup_cpu_limit(v1) == 2.5
    monkeypatch.setenv("TLCOURSE_THREADS", "0")
    with pytest.raises(ValueError, match="TLCOURSE_THREADS"):
        env.usable_cpus()


def test_the_hub_probe_honours_hf_endpoint(monkeypatch):
    from tlcourse.course import env

    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert env.hub_address() == ("huggingface.co", 443)
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com")
    assert env.hub_address() == ("hf-mirror.com", 443)
    monkeypatch.setenv("HF_ENDPOINT", "http://10.0.0.5:8080")
    assert env.hub_address() == ("10.0.0.5", 8080)
