"""The concept clusterbook file CAUSE's mediator stage writes and its heads read."""
import os
import os.path as osp

import numpy as np
import torch
from torch import Tensor

from mmuss.utils.fileio import atomic_write


def save_clusterbook(path: str, clusterbook: Tensor) -> None:
    """Write a ``K×D`` clusterbook as a float32 ``.npy`` file, atomically.

    The format is the reference's ``modular.npy``, so its published
    clusterbooks load too.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    array = clusterbook.detach().float().cpu().numpy()
    atomic_write(path, lambda tmp: np.save(tmp, array), '.npy')


def load_clusterbook(path: str, num_codebook: int, dims: int) -> Tensor:
    """Read a clusterbook written by :func:`save_clusterbook` and check its shape.

    Raises:
        FileNotFoundError: ``path`` does not exist (run the mediator stage first).
        ValueError: the array is not ``num_codebook×dims``.
    """
    expected = (num_codebook, dims)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'CAUSE clusterbook {path!r} does not exist (expected a {expected[0]}×{expected[1]} '
            f'.npy array): train the mediator stage first (configs/cause/cause-mediator_*.py) '
            f'or set clusterbook_file to its output.')
    array = np.load(path, allow_pickle=False)
    if array.shape != expected:
        raise ValueError(f'CAUSE clusterbook {path!r} has shape {array.shape}, expected '
                         f'{expected} (num_codebook × backbone channels).')
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
