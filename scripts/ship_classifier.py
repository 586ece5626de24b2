"""Write the MNIST digit classifier that ganwatch ships (``metrics.classifier_training.SHIPPED``).

Run it after a change to the classifier's architecture or recipe (``ARCH_VERSION``), with
``GANWATCH_DATA_DIR`` (or ``--data-dir``) pointing at MNIST whose test split is official:

    python scripts/ship_classifier.py --data-dir ../shared/data/mnist

It trains exactly as ``ganwatch classifier train`` does (the first ``TRAIN_IMAGES`` training
images, seeded, about 30 s on two CPU cores), or reuses that command's cached result for the
same data, and writes the weights with their test accuracy. The file stays about 0.8 MB.
The verdict corpus (docs/diagnosis.md) was measured with the classifier shipped here: after
shipping a different one, build the corpus again.
"""

from __future__ import annotations

import argparse
import sys

from ganwatch.metrics import classifier_training as clf
from ganwatch.metrics.classifier import ARCH_VERSION
from ganwatch.training.checkpoint import save_checkpoint


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $GANWATCH_DATA_DIR or cache)")
    args = parser.parse_args()
    if not clf._official_test_split("mnist", args.data_dir):
        print(
            "the test split is not official MNIST (MD5 mismatch); nothing written", file=sys.stderr
        )
        return 1
    checksum = clf.dataset_checksum("mnist", data_dir=args.data_dir)
    path = clf.classifier_path("mnist", checksum)
    model = clf._load(path, checksum, "cpu") if path.is_file() else None
    if model is None:
        path, _ = clf.train_and_cache_classifier("mnist", data_dir=args.data_dir, quiet=False)
        model = clf._load(path, checksum, "cpu")
    payload = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "test_accuracy": float(model.test_accuracy),
        "arch_version": ARCH_VERSION,
        "checksum": checksum,  # the data it was trained on, for the record
    }
    save_checkpoint(clf.SHIPPED, payload)
    print(f"wrote {clf.SHIPPED} (test accuracy {model.test_accuracy:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
