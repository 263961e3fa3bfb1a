"""Let torch >= 2.6 load the checkpoints mmengine itself writes.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``, which
refuses any pickled object outside an allow-list. mmengine 0.10.x checkpoints
carry, besides tensors, the message hub's :class:`HistoryBuffer` objects,
numpy arrays/scalars and — through ``HistoryBuffer.__getstate__`` — references
to ``HistoryBuffer.min``/``max``/``current``/``mean`` pickled as
``getattr(HistoryBuffer, name)``, so ``--resume`` and ``load_from`` fail with
"Unsupported global".

mmuss fixes this in three parts, none of which touches downloads (mmengine's
``http(s)://`` loader keeps torch's safe default):

1. the non-tensor types mmengine writes (``HistoryBuffer``, numpy arrays,
   dtypes and scalars) join torch's safe-load allow-list — ``getattr`` does
   not, since allowing it would defeat the safe loader;
2. ``HistoryBuffer`` no longer pickles its four default statistics methods
   (its ``__setstate__`` re-registers them anyway), so checkpoints written
   with mmuss imported load with ``weights_only=True``;
3. a local file that still fails the safe load (e.g. written by plain
   mmengine, or a pickle that would run code) is refused with an error naming
   the file and the offending global. Trusting it is an explicit opt-in:
   ``MMUSS_TRUST_CHECKPOINTS=1`` (set by the tools' ``--trust-checkpoint``
   flag or the config key ``trust_checkpoint = True``) loads it with
   ``weights_only=False``.
"""
import logging
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import CheckpointLoader

DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def mmengine_checkpoint_globals() -> List[object]:
    """The non-tensor types found in mmengine 0.10.x training checkpoints."""
    multiarray = getattr(np, '_core', np.core).multiarray
    dtype_classes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
        'float16', 'float32', 'float64', 'complex64', 'complex128', 'str', 'object')]
    return [HistoryBuffer, multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


def history_buffer_getstate(buffer: HistoryBuffer) -> dict:
    """``HistoryBuffer`` state without its default statistics methods.

    Custom statistics registered by users are kept (and then need the
    trusted-local fallback to load); the defaults are re-registered by
    ``HistoryBuffer.__setstate__``.
    """
    custom = {
        name: fn
        for name, fn in buffer._statistics_methods.items()
        if not (name in DEFAULT_STATISTICS and fn is getattr(HistoryBuffer, name))
    }
    state = {k: v for k, v in buffer.__dict__.items() if k != 'statistics_methods'}
    if custom:
        state['statistics_methods'] = custom
    return state


TRUST_ENV = 'MMUSS_TRUST_CHECKPOINTS'


def checkpoints_trusted() -> bool:
    """Whether the user opted in to unpickling local checkpoints (``MMUSS_TRUST_CHECKPOINTS=1``)."""
    return os.environ.get(TRUST_ENV, '').strip().lower() in ('1', 'true', 'yes')


def offending_global(err: Exception) -> str:
    """The global torch's safe loader refused, as named in its error message."""
    found = re.search(r'(?:Unsupported global|GLOBAL|unsupported)\s*:?\s*(?:GLOBAL\s+)?'
                      r'([\w.]+(?:\s[\w.]+)?)', str(err))
    return found.group(1) if found else str(err).strip().splitlines()[-1][:200]


def load_local_checkpoint(filename: str, map_location: Optional[Any] = None,
                          mmap: bool = False) -> Any:
    """mmengine's local-file loader: torch's safe load, unpickling only on explicit opt-in.

    ``mmap=True`` memory-maps a zip-format file (``torch.save``'s default), so
    tensors the caller never reads are never loaded; legacy files load fully.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    mmap = mmap and zipfile.is_zipfile(filename)
    try:
        return torch.load(filename, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        culprit = offending_global(err)
        if not checkpoints_trusted():
            raise pickle.UnpicklingError(
                f'Refusing to load {filename}: it holds {culprit}, which is outside the '
                f'types mmengine checkpoints need, and unpickling it could run arbitrary code. '
                f'If you trust this file, pass --trust-checkpoint to tools/train.py or '
                f'tools/test.py (config: trust_checkpoint = True) or set {TRUST_ENV}=1.'
            ) from None
        print_log(f'{filename} holds {culprit}; loading it with weights_only=False because '
                  f'{TRUST_ENV}=1.', logger='current', level=logging.WARNING)
        return torch.load(filename, map_location=map_location, weights_only=False, mmap=mmap)


def allow_mmengine_checkpoints() -> None:
    """Install the three parts described in the module docstring (idempotent)."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(mmengine_checkpoint_globals())
    HistoryBuffer.__getstate__ = history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_local_checkpoint)
