"""The one reader of a training checkpoint's state dict."""
import os.path as osp

from mmengine.runner import CheckpointLoader

from .checkpoint_compat import load_local_checkpoint


def checkpoint_state_dict(filename: str, mmap: bool = False) -> dict:
    """The ``state_dict`` of a checkpoint file, without a DDP ``module.`` prefix.

    A file holding no state dict (neither a ``{'state_dict': ...}`` checkpoint
    nor a plain dict) raises a ``ValueError`` naming it.

    Args:
        filename: Local path or any scheme mmengine's ``CheckpointLoader`` reads.
        mmap: Memory-map a local file: entries the caller drops without reading
            (e.g. CAUSE's 800 MiB concept bank) are never loaded.
    """
    if mmap and osp.isfile(osp.expanduser(filename)):
        ckpt = load_local_checkpoint(filename, map_location='cpu', mmap=True)
    else:
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{filename} holds no state dict.')
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
