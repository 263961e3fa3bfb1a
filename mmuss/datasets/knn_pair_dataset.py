"""Dataset wrapper that attaches a nearest-neighbour partner image to every sample (STEGO)."""
import copy
import os.path as osp
import zipfile
from typing import List, Optional, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmseg.registry import DATASETS


def sample_id(data_info: dict) -> str:
    """The id a KNN table records for a sample: its image file name without extension."""
    return osp.splitext(osp.basename(data_info['img_path']))[0]


REGENERATE = 'recreate it with tools/precompute_knns.py on this config'


def read_knn_file(knn_file: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """``(nns, ids)`` of a KNN ``.npz`` (``ids`` is ``None`` for tables without them).

    A truncated or corrupt file, or one without ``nns``, is a ``ValueError``
    naming the file and the tool that regenerates it.
    """
    try:
        with np.load(knn_file) as table:
            if 'nns' not in table:
                raise ValueError(f'no "nns" array (keys: {list(table)})')
            nns = table['nns'].astype(np.int64)
            ids = table['ids'] if 'ids' in table else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f'KNN file {knn_file} is unreadable ({exc}); {REGENERATE}.') from exc
    return nns, ids


def check_knn_table(nns: np.ndarray, ids: Optional[np.ndarray], dataset_ids: List[str],
                    num_neighbors: int, knn_file: str) -> None:
    """Fail, naming the file, when a KNN table does not belong to the dataset.

    Args:
        nns: ``N×k`` neighbour indices.
        ids: ``N`` sample ids stored with the table, or ``None``.
        dataset_ids: The dataset's ids in index order.
        num_neighbors: Partners are drawn from ranks ``1..num_neighbors``.
        knn_file: Path, for the messages.
    """
    if nns.ndim != 2:
        raise ValueError(f'{knn_file}: "nns" must be N×k, got shape {nns.shape}.')
    if nns.shape[0] != len(dataset_ids):
        raise ValueError(f'{knn_file} has {nns.shape[0]} rows but the dataset has '
                         f'{len(dataset_ids)} samples: it was computed for another dataset '
                         f'or split; {REGENERATE}.')
    if not 1 <= num_neighbors < nns.shape[1]:
        raise ValueError(f'num_neighbors={num_neighbors} needs 1 <= num_neighbors < '
                         f'{nns.shape[1]} (the columns of {knn_file}).')
    if nns.min() < 0 or nns.max() >= len(dataset_ids):
        raise ValueError(f'{knn_file} holds neighbour indices outside [0, {len(dataset_ids)}).')
    if ids is not None:
        if len(ids) != len(dataset_ids):
            raise ValueError(f'{knn_file}: "ids" has {len(ids)} entries, the dataset '
                             f'{len(dataset_ids)}.')
        for i, (stored, actual) in enumerate(zip(ids, dataset_ids, strict=True)):
            if str(stored) != actual:
                raise ValueError(f'{knn_file} does not match the dataset: sample {i} is '
                                 f'{actual!r} in the dataset but {str(stored)!r} in the table '
                                 f'(different split, file list or order); {REGENERATE}.')


@DATASETS.register_module()
class KNNPairDataset:
    """Add each sample's nearest-neighbour partner as the data-sample field ``view_key``.

    The partner of sample ``i`` is ``nns[i][r]`` with ``r`` uniform in
    ``{1, …, num_neighbors}``, redrawn every time the sample is loaded, and
    goes through the same pipeline (docs/methods/stego.md eq. 12, Q8). The
    table is the ``.npz`` written by ``tools/precompute_knns.py`` (key ``nns``,
    ``N×k`` indices, rank 0 normally the sample itself; key ``ids``, the sample
    ids it was computed for, checked against the dataset). Tables without
    ``ids`` (e.g. STEGO's own) are checked by length only.

    Args:
        dataset: The wrapped dataset or its config.
        knn_file: Path of the ``.npz`` table.
        num_neighbors: Highest neighbour rank a partner is drawn from (7).
        view_key: Data-sample field receiving the partner's ``3×H×W`` image.
        lazy_init: Postpone loading the annotations and the table.
    """

    def __init__(self, dataset: Union[BaseDataset, dict], knn_file: str,
                 num_neighbors: int = 7, view_key: str = 'knn_img',
                 lazy_init: bool = False) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.knn_file = knn_file
        self.num_neighbors = num_neighbors
        self.view_key = view_key
        self._metainfo = self.dataset.metainfo
        self.nns: Optional[np.ndarray] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset and the KNN table, and check that they match."""
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        if not osp.isfile(self.knn_file):
            raise FileNotFoundError(f'KNN file {self.knn_file!r} does not exist; create it with '
                                    f'tools/precompute_knns.py.')
        nns, ids = read_knn_file(self.knn_file)
        dataset_ids = [sample_id(self.dataset.get_data_info(i)) for i in range(len(self.dataset))]
        check_knn_table(nns, ids, dataset_ids, self.num_neighbors, self.knn_file)
        if ids is None:
            print_log(f'{self.knn_file} stores no sample ids; only its length was checked.',
                      logger='current')
        self.nns = nns
        self._fully_initialized = True

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def partner_index(self, idx: int) -> int:
        """A random neighbour of ``idx`` among ranks ``1..num_neighbors``."""
        return int(self.nns[idx, np.random.randint(1, self.num_neighbors + 1)])

    def __getitem__(self, idx: int) -> dict:
        self.full_init()
        results = self.dataset[idx]
        partner_idx = self.partner_index(idx)
        partner = self.dataset[partner_idx]
        sample = results['data_samples']
        sample.set_field(partner['inputs'], self.view_key)
        sample.set_metainfo(dict(knn_index=partner_idx))
        return results
