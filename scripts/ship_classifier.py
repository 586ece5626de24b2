"""Write the MNIST digit classifier a package carries (``classifier_training.SHIPPED``).

``scripts/setup.sh`` runs it when ``GANWATCH_DATA_DIR`` holds MNIST; a release runs it before
building the wheel. The weights are built rather than committed, since they derive from the
dataset:

    python scripts/ship_classifier.py --data-dir ../shared/data/mnist

It trains exactly as ``ganwatch classifier train`` does (the first ``TRAIN_IMAGES`` training
images, seeded, about 30 s on two CPU cores), or reuses that command's cached result for the
same data. The verdict corpus (docs/diagnosis.md) was measured with this classifier, trained
on the first 23,797 official training images: after a change to the classifier, build the
corpus again.
"""

from __future__ import annotations

import argparse
import sys

from ganwatch.metrics.classifier_training import ship_classifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $GANWATCH_DATA_DIR or cache)")
    args = parser.parse_args()
    try:
        path = ship_classifier(args.data_dir, quiet=False)
    except ValueError as error:
        print(f"ship_classifier: {error}; nothing written", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
