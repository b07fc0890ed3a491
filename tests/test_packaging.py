"""environment.yml and pyproject.toml declare the same packages; the CLI and doctor work."""
import re
import subprocess
import sys
import tomllib

from tlcourse import config, doctor

ROOT = config.repo_root()


def split(requirement):
    name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower()
    return name, requirement[len(name):].strip()


def test_environment_yml_matches_pyproject():
    declared = dict(split(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    conda = dict(split(line.strip()[2:]) for line in (ROOT / "environment.yml").read_text().splitlines()
                 if line.startswith("      - "))
    assert conda.keys() == declared.keys()
    for name, spec in declared.items():
        if name != "torch":  # conda pins the exact CPU build that scripts/setup.sh installs
            assert conda[name] == spec, name
    assert conda["torch"] == "==2.13.0"
    assert "torch==2.13.0" in (ROOT / "scripts" / "setup.sh").read_text()


def test_doctor_passes_here_and_fails_with_the_fix(monkeypatch, capsys):
    assert doctor.main() == 0
    monkeypatch.setattr(doctor, "PACKAGES", doctor.PACKAGES + ["no-such-package-tlcourse"])
    assert doctor.main() == 1
    assert "[FAIL] no-such-package-tlcourse not installed  -> fix: make setup" in capsys.readouterr().out


def test_cli_lists_the_datasets():
    out = subprocess.run([sys.executable, "-m", "tlcourse", "data", "list"], capture_output=True, text=True,
                         check=True).stdout
    assert all(name in out for name in ("wiki_topics", "wiki_corpus", "fashion_mnist", "digits"))


def test_cli_reports_an_unknown_dataset():
    run = subprocess.run([sys.executable, "-m", "tlcourse", "data", "prepare", "imagenet"], capture_output=True,
                         text=True)
    assert run.returncode == 1 and "Known datasets" in run.stderr
