# Two commands: `make course` runs every notebook and writes build/report.md; `make test` checks everything.
PY := .venv/bin/python
OFFLINE := HF_HUB_OFFLINE=1

.PHONY: setup course test lab doctor data
setup: .venv/.installed
.venv/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
course: setup
	$(PY) -m tlcourse course
test: setup
	$(OFFLINE) TLCOURSE_PROFILE=smoke TLCOURSE_BUILD_DIR=build/smoke $(PY) -m pytest
lab: setup
	$(PY) -m jupyter lab notebooks/
doctor: setup
	$(PY) -m tlcourse doctor
data: setup
	$(PY) -m tlcourse data list
