"""Real images that install with Python packages and need no download, for the examples.

- ``photo_patches``: 32x32 RGB patches cut from six of scikit-image's bundled photographs
  (``skimage.data``: astronaut, coffee, rocket, chelsea, hubble_deep_field,
  immunohistochemistry; see scikit-image's ``skimage/data/README.txt`` for each photo's
  licence: public domain or CC0/CC-BY). The photo is the class, so a generator that
  collapses onto one photo is measurable. Reference and held-out patches are independent
  random crops of the whole photo (different seeds), the way new images from the same
  distribution would be: a held-out *region* of a photo is a different distribution (the
  astronaut's right third has no face), not fresh samples of the same one.
- ``digits``: scikit-learn's bundled handwritten digits (``load_digits``: 1,797 8x8 images,
  10 classes; a copy of the UCI ML hand-written digits test set, CC BY 4.0).

Both return NHWC or NHW uint8-like arrays and their labels, as a user's own data would be.
"""

from __future__ import annotations

import numpy as np

PHOTOS = ("astronaut", "coffee", "rocket", "chelsea", "hubble_deep_field", "immunohistochemistry")
SIDE = 32


def photo_patches(per_photo: int, part: str = "reference", seed: int = 0):
    """(patches (N, 32, 32, 3) uint8, photo labels (N,)): ``per_photo`` random crops of each
    photo; ``part`` ("reference" or "held_out") picks an independent stream of crops."""
    import skimage.data

    rng = np.random.default_rng(seed + (0 if part == "reference" else 1))
    patches, labels = [], []
    for label, name in enumerate(PHOTOS):
        photo = getattr(skimage.data, name)()
        if photo.ndim == 2:
            photo = np.repeat(photo[:, :, None], 3, axis=2)
        height, width = photo.shape[:2]
        for _ in range(per_photo):
            top = rng.integers(0, height - SIDE)
            left = rng.integers(0, width - SIDE)
            patches.append(photo[top : top + SIDE, left : left + SIDE])
            labels.append(label)
    return np.stack(patches), np.asarray(labels)


def digits():
    """(images (1797, 8, 8) float in [0, 1], labels (1797,)): scikit-learn's digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.images / 16.0).astype(np.float32), data.target
