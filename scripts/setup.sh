#!/usr/bin/env bash
# Idempotent set-up, called by `make setup` (and by every make target through it):
# Fashion-MNIST from Debian (when root), a virtual environment in .venv, the packages, the data.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}   # on Linux, TORCH_INDEX=https://download.pytorch.org/whl/cpu keeps it small

if [ ! -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }
  else
    echo "note: for Fashion-MNIST offline run: sudo apt-get install dataset-fashion-mnist (online, the hub copy is used)"
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "$TORCH_SPEC" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
.venv/bin/python -m pip install -q -e .
HF_HUB_OFFLINE=1 .venv/bin/python -m tlcourse data prepare
touch .venv/.installed
