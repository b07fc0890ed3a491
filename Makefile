# Two commands: `make course` runs every notebook and writes build/report.md; `make test` checks everything.
# PY is the interpreter: .venv/bin/python (made by setup), or your own, e.g. `make course PY=python` in conda.
PY ?= .venv/bin/python
OFFLINE := HF_HUB_OFFLINE=1
SMOKE := $(OFFLINE) TLCOURSE_PROFILE=smoke TLCOURSE_BUILD_DIR=build/smoke

.PHONY: setup course test test-fast lint export lab doctor data student book
setup:
	PY=$(PY) bash scripts/setup.sh
course: setup
	$(PY) -m tlcourse course
test: setup
	$(SMOKE) $(PY) -m pytest
test-fast: setup  # maintainers: the tests not marked slow (no notebooks, multi-process runs or installs)
	$(SMOKE) $(PY) -m pytest tests -m "not slow"
lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
export: setup  # after editing a notebook cell tagged `export`: regenerate tlcourse/lessons/
	$(PY) -m tlcourse export
lab: setup
	$(PY) -m jupyter lab notebooks/
doctor:  # no set-up first: it must work when set-up did not
	@"$(PY)" -c "" 2>/dev/null || { echo "[FAIL] $(PY) does not run  -> fix: make setup"; exit 1; }; $(PY) -m tlcourse doctor
data: setup
	$(PY) -m tlcourse data list
student: setup  # student copies in student/; grade one: $(PY) -m tlcourse grade student/NN_....ipynb
	$(PY) -m tlcourse student
book: setup  # the course website in build/book/_build/html, from the notebooks' committed outputs
	$(PY) -m pip install -q -e ".[book]" -c constraints.txt && $(PY) -m tlcourse book
