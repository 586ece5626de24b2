#!/bin/bash
# How often a finished two-rank torchrun launch fails at exit, for two source trees side by
# side: launches interleaved (A, B, A, B, ...) under a concurrent pytest load on the same
# cores, since the abort (a rank's SIGABRT in interpreter finalisation, "terminate called
# without an active exception") showed up under load and almost never on an idle machine.
#
#   benchmarks/torchrun_exit.sh OLD_SRC NEW_SRC PAIRS    # e.g. a worktree's src/ and src/
#
# Prints one line per failed launch and then the counts. Run from the repository root with
# the project's venv (.venv); needs GANWATCH_DATA_DIR for the load's MNIST tests.
set -u
if [ $# != 3 ] || [ ! -f "$1/ganwatch/__init__.py" ] || [ ! -f "$2/ganwatch/__init__.py" ]; then
  echo "usage: $0 OLD_SRC NEW_SRC PAIRS  (each SRC a folder holding ganwatch/)" >&2
  exit 2
fi
old_src=$(realpath "$1"); new_src=$(realpath "$2"); pairs=$3
for src in "$old_src" "$new_src"; do  # each arm must import its own tree, not the install
  PYTHONPATH=$src .venv/bin/python -c "import ganwatch; print('arm:', ganwatch.__file__)"
done
work=$(mktemp -d)
keep=$(mktemp -d)  # the failed launches' logs (faulthandler's dump of the aborting rank)
export CI=true OMP_NUM_THREADS=1
# the load runs in its own process group, so the trap ends it with every child
setsid bash -c 'while true; do .venv/bin/python -m pytest -q -x tests/metrics \
  tests/test_monitor.py -p no:cacheprovider > "$0/load.log" 2>&1; done' "$work" &
load=$!
trap 'kill -- -$load 2>/dev/null; rm -rf "$work"' EXIT
fails_old=0; fails_new=0
for n in $(seq 1 "$pairs"); do
  for arm in old new; do
    src=$old_src; [ $arm = new ] && src=$new_src
    PYTHONPATH=$src PYTHONFAULTHANDLER=1 .venv/bin/python -m torch.distributed.run --standalone \
      --nproc_per_node=2 -m ganwatch train --dataset ring --model cgan --train-size 515 \
      --batch-size 63 --device cpu --epochs 2 --quiet --store "$work/$arm$n" > "$work/log" 2>&1
    rc=$?
    if [ $rc != 0 ]; then
      echo "$arm launch $n: exit $rc; $(grep -c 'terminate called' "$work/log") abort(s)"
      cp "$work/log" "$keep/$arm$n.log"
      if [ $arm = old ]; then fails_old=$((fails_old + 1)); else fails_new=$((fails_new + 1)); fi
    fi
    rm -rf "$work/$arm$n"
  done
done
echo "logs of failed launches: $keep"
echo "failed launches: old $fails_old of $pairs, new $fails_new of $pairs ($(date -u +%F), $(getconf _NPROCESSORS_ONLN) cores)"
