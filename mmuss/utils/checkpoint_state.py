"""The one reader of a training checkpoint's state dict."""
from mmengine.runner import CheckpointLoader


def checkpoint_state_dict(filename: str) -> dict:
    """The ``state_dict`` of a checkpoint file, without a DDP ``module.`` prefix.

    A file holding no state dict (neither a ``{'state_dict': ...}`` checkpoint
    nor a plain dict) raises a ``ValueError`` naming it.
    """
    ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{filename} holds no state dict.')
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
