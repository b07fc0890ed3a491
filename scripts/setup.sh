#!/usr/bin/env bash
# Set-up, called by `make setup` (and by every make target through it); quick when nothing changed.
#   1. Fashion-MNIST from Debian's package when run as root on Debian/Ubuntu (optional: see below);
#   2. the environment: .venv (made with $PYTHON), or the interpreter in $PY (`make course PY=python` for conda);
#   3. PyTorch, pinned: on Linux without an NVIDIA GPU the CPU build from PyTorch's CPU index (about 200 MB),
#      falling back to the default index (PyPI's build for the platform, with CUDA on Linux: several GB) when
#      that index cannot be reached. TORCH_SPEC and TORCH_INDEX override both; changing them re-runs the install;
#   4. the course package and its dependencies (pyproject.toml), at the published run's versions (constraints.txt);
#   5. the datasets: every one whose source is available is prepared; a missing one is listed with its fix and
#      only the notebooks that need it are skipped. Set-up never fails over an optional dataset.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PY=${PY:-.venv/bin/python}
TORCH_SPEC=${TORCH_SPEC:-$(grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')}  # the pin, read from pyproject.toml
CPU_INDEX=https://download.pytorch.org/whl/cpu
FASHION_DIR=${TLCOURSE_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}

if [ ! -e "$FASHION_DIR/train-images-idx3-ubyte.gz" ] && [ -z "${TLCOURSE_FASHION_MNIST_DIR:-}" ] \
   && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } \
    || echo "note: apt-get could not install dataset-fashion-mnist; the data step below says what else works"
fi

torch_index() {  # the index to install torch from ("" = pip's default)
  if [ -n "${TORCH_INDEX+set}" ]; then echo "$TORCH_INDEX"; return; fi
  if [ "$(uname -s)" != Linux ] || command -v nvidia-smi >/dev/null || [ -e /proc/driver/nvidia ]; then return; fi
  if "$PY" -c "import urllib.request as u; u.urlopen('$CPU_INDEX/torch/', timeout=10)" >/dev/null 2>&1; then
    echo "$CPU_INDEX"
  else
    echo "note: $CPU_INDEX cannot be reached; torch comes from the default index (on Linux PyPI's CUDA build)" >&2
  fi
}

install_packages() {
  local index
  index=$(torch_index)
  echo "installing $TORCH_SPEC${index:+ from $index}"
  "$PY" -m pip install -q "$TORCH_SPEC" ${index:+--index-url "$index"}
  # the course, its tests (pytest, nbval, ruff) and JupyterLab, at the versions of the published run
  "$PY" -m pip install -q -e ".[test,lab]" -c constraints.txt
}

if [ "$PY" = .venv/bin/python ]; then
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv || {
      echo "error: '$PYTHON -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv; then run this again" >&2
      rm -rf .venv; exit 1; }
    .venv/bin/python -m pip install -q --upgrade pip
  fi
  # what the installed environment was made from: a change in any of it re-runs the install
  wanted="$TORCH_SPEC index=${TORCH_INDEX-auto} $(cksum < pyproject.toml) $(cksum < constraints.txt)"
  if [ "$(cat .venv/.installed 2>/dev/null)" != "$wanted" ]; then
    install_packages
    echo "$wanted" > .venv/.installed
  fi
else  # an environment the learner manages (conda, a JupyterHub image): install only what is missing
  "$PY" -c "import torch" 2>/dev/null || install_packages
  "$PY" -c "import tlcourse, transformers, peft, nbval" 2>/dev/null || "$PY" -m pip install -q -e ".[test,lab]" -c constraints.txt
fi
"$PY" -m tlcourse data prepare
