#!/usr/bin/env bash
# Set up ganwatch in ./.venv: everything it needs, from nothing but Python 3.10+ and pip.
#
# PyTorch comes first, chosen for the machine: with an NVIDIA GPU, pip's default build (CUDA);
# without one, the CPU build, so that no CUDA packages (several GB) are pulled. Then ganwatch
# itself, editable. Running it again is quick: what is there is kept.
#
#   TORCH_VERSION    the torch version to install on a CPU machine (default 2.13.0)
#   TORCH_INDEX_URL  an index with CPU builds, e.g. https://download.pytorch.org/whl/cpu
#   PYTHON           the interpreter that makes the venv (default python3)
#
# With --dev it also installs the test tools (pytest, ruff, the metrics' reference
# implementations, Playwright) and, when missing, Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
for arg in "$@"; do
    case "$arg" in
        --dev) dev=1 ;;
        *) echo "setup: unknown option $arg (expected --dev)" >&2; exit 2 ;;
    esac
done

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

# The MNIST classifier the package carries (a cold first evaluation reads it instead of
# training one for half a minute). Built from the data, never committed; only when
# GANWATCH_DATA_DIR holds official MNIST, and only once.
ship_mnist_classifier() {
    if [ -n "${GANWATCH_DATA_DIR:-}" ] && [ ! -f src/ganwatch/metrics/weights/mnist-classifier.pt ]; then
        echo "setup: building the shipped MNIST classifier from $GANWATCH_DATA_DIR"
        "$venv/bin/python" scripts/ship_classifier.py || echo "setup: not built (see above)" >&2
    fi
}

# Editable install; torch is already satisfied, so no other build of it is pulled.
if [ "$dev" = 0 ]; then
    "${pip[@]}" install -e .
    ship_mnist_classifier
    echo "setup: ready ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
    exit 0
fi
"${pip[@]}" install -e ".[dev]"
ship_mnist_classifier

# The dashboard's browser tests drive Debian's chromium through Playwright (never Playwright's
# own browser download). Installed only when missing, and only where apt-get can run.
if ! command -v chromium >/dev/null 2>&1; then
    as_root=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root="sudo -n"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$as_root" ]; }; then
        echo "setup: installing Debian's chromium for the dashboard's browser tests"
        if ! { $as_root apt-get update -qq &&
            $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
            echo "setup: error: 'apt-get install -y chromium' failed; the dashboard's browser" \
                "tests need it (is the Debian mirror reachable?)" >&2
            exit 1
        fi
    else
        echo "setup: chromium is missing and cannot be installed here (needs apt-get as root);" \
            "the dashboard's browser tests will be skipped" >&2
    fi
fi
echo "setup: ready for development ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
