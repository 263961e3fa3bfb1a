"""Let torch >= 2.6 load the checkpoints mmengine itself writes.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``, which
refuses any pickled object outside an allow-list. mmengine 0.10.x checkpoints
carry, besides tensors, the message hub's :class:`HistoryBuffer` objects and
numpy arrays/scalars in ``message_hub``/``meta``, so ``--resume`` and
``load_from`` fail with "Unsupported global". Rather than switching the safe
loader off (``weights_only=False`` would execute arbitrary pickles, including
from downloaded files), we add exactly these types to torch's allow-list:
loading stays restricted for every file, local or downloaded, and mmengine's
own checkpoints load again.
"""
from typing import List

import numpy as np
import torch


def mmengine_checkpoint_globals() -> List[object]:
    """The non-tensor types found in mmengine 0.10.x training checkpoints."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = getattr(np, '_core', np.core).multiarray
    dtype_classes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
        'float16', 'float32', 'float64', 'complex64', 'complex128', 'str', 'object')]
    return [HistoryBuffer, multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


def allow_mmengine_checkpoints() -> None:
    """Register mmengine's checkpoint types with torch's ``weights_only`` loader."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(mmengine_checkpoint_globals())
