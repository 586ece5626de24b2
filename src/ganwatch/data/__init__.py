"""Data sets for ganwatch: MNIST-format images, Stacked MNIST, and 2-D toy mixtures.

``load_dataset(name, ...)`` is the entry point; it returns a :class:`Dataset` whose tensors
already sit on the training device. The submodules each do one job: ``idx`` parses files,
``sources`` lists where datasets come from, ``download`` finds or fetches files, ``toy`` and
``stacked`` build the mode-collapse benchmarks, ``loader`` ties them together.
"""

from .download import DataNotFoundError, DownloadError, dataset_dir, ensure_files
from .idx import IdxFormatError, read_idx, write_idx
from .loader import DATASETS, Dataset, load_dataset
from .stacked import stack_mnist
from .toy import mode_centres, mode_sigma, sample_toy

__all__ = [
    "DATASETS",
    "DataNotFoundError",
    "Dataset",
    "DownloadError",
    "IdxFormatError",
    "dataset_dir",
    "ensure_files",
    "load_dataset",
    "mode_centres",
    "mode_sigma",
    "read_idx",
    "sample_toy",
    "stack_mnist",
    "write_idx",
]
