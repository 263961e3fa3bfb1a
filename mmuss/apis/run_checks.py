"""Early checks of a run: data roots, a checkpoint against the model, a non-empty train loader."""
import logging
import os.path as osp
from typing import Iterable, List, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmuss.utils.checkpoint import checkpoint_state_dict
from mmuss.utils.model_wrapper import unwrap_model


def _dataset_cfgs(cfg: Config, keys: Iterable[str]) -> Iterable[Tuple[str, dict]]:
    """``(dataloader key, dataset config)`` of every (wrapped) dataset of those loaders."""
    for key in keys:
        loader = cfg.get(key)
        if not loader or 'dataset' not in loader:
            continue
        stack = [loader['dataset']]
        while stack:
            ds = stack.pop()
            if isinstance(ds, (list, tuple)):
                stack.extend(ds)
                continue
            yield key, ds
            for child in ('dataset', 'datasets'):
                if child in ds:
                    stack.append(ds[child])



def check_data_roots(cfg: Config, keys: Iterable[str]) -> None:
    """Fail early, naming the dataloader and path, when a ``data_root`` does not exist."""
    for key, ds in _dataset_cfgs(cfg, keys):
        root = ds.get('data_root')
        if root and not osp.isdir(root):
            raise FileNotFoundError(
                f'data_root {root!r} of the {ds.get("type", "dataset")} in {key} does not '
                f'exist; set it in the config or with --cfg-options.')



def _listed(keys: List[str], limit: int = 20) -> str:
    return f'{keys[:limit]}{" ..." if len(keys) > limit else ""}'



def check_checkpoint_keys(model: torch.nn.Module, filename: str,
                     allow_shape_mismatch: bool = False) -> None:
    """Fail when a checkpoint does not fit ``model`` (DDP-wrapped or not).

    Raises ``KeyError`` listing missing/unexpected keys and ``ValueError``
    listing every key whose tensor shape differs (checkpoint vs model), unless
    ``allow_shape_mismatch`` (those tensors then keep the model's values, as
    mmengine's non-strict loading does).
    """
    state = checkpoint_state_dict(filename, mmap=True)  # keys and shapes: nothing is read
    expected = unwrap_model(model).state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise KeyError(f'Checkpoint {filename} does not match the model: '
                       f'missing keys {_listed(missing)}, unexpected keys {_listed(unexpected)}.')
    mismatched = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(expected[k].shape)}'
                  for k, v in state.items()
                  if hasattr(v, 'shape') and tuple(v.shape) != tuple(expected[k].shape)]
    if mismatched and not allow_shape_mismatch:
        raise ValueError(f'Checkpoint {filename} has tensors whose shapes differ from the '
                         f'model\'s: {_listed(mismatched)}. Fix the config (e.g. the embed '
                         f'width) to match, or pass --allow-shape-mismatch (config: '
                         f'allow_shape_mismatch = True) to keep the model\'s values there.')
    if mismatched:
        print_log(f'Checkpoint {filename}: not loading {len(mismatched)} tensors of another '
                  f'shape (allow_shape_mismatch): {_listed(mismatched)}.', logger='current',
                  level=logging.WARNING)



def check_train_batches(runner: Runner) -> None:
    """Fail early when the train dataloader yields no batch (e.g. fewer images than one
    batch with ``drop_last``), which would otherwise train zero iterations or hang."""
    loader = runner.train_dataloader
    if len(loader) == 0:
        raise ValueError(
            f'train_dataloader yields no batch: {len(loader.dataset)} images, batch_size '
            f'{loader.batch_size}, drop_last={loader.drop_last}, '
            f'{runner.world_size} process(es). Add images, lower train_dataloader.batch_size '
            f'or set drop_last=False.')
