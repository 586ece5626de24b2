#!/usr/bin/env bash
# The prepared GPU check: everything a lent GPU should measure, in one call, into one folder.
#
#   bash benchmarks/gpu_check.sh [--dry-run] [--out DIR] [--data-dir DIR] [--budget SECONDS]
#
# On one NVIDIA GPU, within --budget seconds (default 480, the 8 minutes of issue 12):
#   env.txt          the GPU, driver and torch
#   speed-fp32.txt   training images/s, ganwatch vs the article's loop, in one run each;
#   speed-tf32.txt   the article's loop is ../shared/bench/seed_reference.py where it
#   speed-bf16.txt   travelled and torchvision imports, else benchmarks/article_loop.py
#   monitor.txt      the Monitor's first and later evaluations against an epoch (2,048 samples)
#   overhead.txt     the stable preset with metrics on: time/metrics_s against time/epoch_s
#   reproduce-*.md   ganwatch reproduce --scale full, one preset at a time while time is left
#   summary.md       every RESULT line, with the time each step took
# --dry-run does the same on the CPU at toy sizes in about a minute (CI runs it).
# Needs: python3 with torch (the device machine has it), the repo's src on PYTHONPATH (set
# here), and the MNIST files (--data-dir, default $GANWATCH_DATA_DIR, else ./.data/mnist).
set -uo pipefail
cd "$(dirname "$0")/.."

dry=0
out=gpu-check
data=${GANWATCH_DATA_DIR:-.data/mnist}
budget=480
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry=1 ;;
        --out) out=$2; shift ;;
        --data-dir) data=$2; shift ;;
        --budget) budget=$2; shift ;;
        *) echo "gpu_check: unknown option $1 (expected --dry-run, --out, --data-dir, --budget)" >&2
           exit 2 ;;
    esac
    shift
done
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ ! -f "$data/train-images-idx3-ubyte" ]; then
    echo "gpu_check: no MNIST files in $data (pass --data-dir DIR)" >&2
    exit 2
fi
python=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
export GANWATCH_DATA_DIR=$data GANWATCH_CACHE_DIR=${GANWATCH_CACHE_DIR:-$out/cache}
mkdir -p "$out"
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }

if [ "$dry" = 1 ]; then
    device=cpu; epochs=2; size=(--train-size 256); samples=64; evaluations=2; presets=stable
    precisions=(fp32); reproduce=(--scale quick --epochs 1)
else
    device=cuda; epochs=5; size=(); samples=2048; evaluations=3
    presets="stable latent-2 latent-1 lr-0.2 adam-default-betas"
    precisions=(fp32 tf32 bf16); reproduce=(--scale full)
fi

step() {  # step NAME SECONDS_NEEDED COMMAND...: run it if there is time, log to NAME.txt
    local name=$1 need=$2; shift 2
    local t0 rc
    if [ "$(left)" -lt "$need" ]; then
        echo "| $name | skipped: $(left) s left, needs about $need |" >> "$out/summary.md"
        return
    fi
    t0=$(date +%s)
    timeout "$(left)" "$@" > "$out/$name.txt" 2>&1
    rc=$?
    local result
    result=$(grep -h "^RESULT" "$out/$name.txt" | tr '\n' ' ')
    echo "| $name | exit $rc, $(( $(date +%s) - t0 )) s | ${result:-see $name.txt} |" >> "$out/summary.md"
}

{
    echo "# gpu_check: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "| step | how it ended | result |"
    echo "|---|---|---|"
} > "$out/summary.md"
{ nvidia-smi 2>&1 || echo "no nvidia-smi"; "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } > "$out/env.txt" 2>&1

for precision in "${precisions[@]}"; do
    step "speed-$precision" 20 "$python" benchmarks/train_speed.py --data-dir "$data" \
        --epochs "$epochs" --device "$device" --precision "$precision" "${size[@]}"
done
step monitor 20 "$python" benchmarks/monitor_speed.py --data-dir "$data" --device "$device" \
    --samples "$samples" --evaluations "$evaluations" "${size[@]}"
step overhead 20 "$python" benchmarks/train_speed.py --data-dir "$data" --epochs "$epochs" \
    --device "$device" --metrics "${size[@]}"
for preset in $presets; do
    step "reproduce-$preset" 60 "$python" -m ganwatch reproduce "${reproduce[@]}" \
        --presets "$preset" --device "$device" --out "$out/reproduce-$preset" \
        --store "$out/store" --quiet
done
echo "gpu_check: $(( $(date +%s) - start )) s; see $out/summary.md"
cat "$out/summary.md"
