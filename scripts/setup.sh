#!/usr/bin/env bash
# Set up ganwatch in ./.venv: everything it needs, from nothing but Python 3.10+ and pip.
#
# PyTorch comes first, chosen for the machine: with an NVIDIA GPU, pip's default build (CUDA);
# without one, the CPU build, so that no CUDA packages (several GB) are pulled. Then ganwatch
# itself, editable, with its test tools. Running it again is quick: what is there is kept.
#
#   TORCH_VERSION    the torch version to install on a CPU machine (default 2.13.0)
#   TORCH_INDEX_URL  an index with CPU builds, e.g. https://download.pytorch.org/whl/cpu
#   PYTHON           the interpreter that makes the venv (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)

if ! "$venv/bin/python" -c "import torch" >/dev/null 2>&1; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        echo "setup: NVIDIA GPU found, installing PyTorch with CUDA"
        "${pip[@]}" install torch
    else
        version=${TORCH_VERSION:-2.13.0}
        echo "setup: no NVIDIA GPU, installing the CPU build of PyTorch $version"
        if [ -n "${TORCH_INDEX_URL:-}" ]; then
            "${pip[@]}" install "torch==$version" --index-url "$TORCH_INDEX_URL"
        else
            "${pip[@]}" install "torch==$version"
        fi
    fi
fi

# Editable install with the test tools; torch is already satisfied, so nothing else is pulled.
"${pip[@]}" install -e ".[dev]"
echo "setup: ready ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
