"""Measurements of a GAN's samples against real data, each checked against its reference.

- ``ndb``: NDB and JS over k-means bins (Richardson & Weiss 2018), bins fitted once per
  reference and reused (``NDBBins``); ``ndb_plot`` draws them.
- ``prdc``: precision, recall, density, coverage (Naeem et al. 2020) and improved
  precision/recall (Kynkaanniemi et al. 2019) over chunked distances (``distances``).
- ``fid``: FID with a stable matrix square root, and KID.
- ``classifier`` and ``classes``: ganwatch's own MNIST classifier, its features, class
  coverage, class KL, Inception Score and Stacked MNIST modes.
- ``toy``: modes captured and high-quality share on the ring and grid.
- ``diversity``: a cheap per-epoch spread of a sample batch relative to real data.

Modules are imported on use, so ``import ganwatch.metrics`` stays cheap.
"""

from __future__ import annotations

__all__ = ["classes", "classifier", "diversity", "fid", "ndb", "ndb_plot", "prdc", "toy"]
