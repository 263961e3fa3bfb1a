"""The one owner of checkpoint files: reading them safely, naming them, loading parts of them.

- **Safe reading.** Since torch 2.6, ``torch.load`` defaults to
  ``weights_only=True``, which refuses any pickled object outside an
  allow-list. mmengine 0.10.x checkpoints carry, besides tensors, the message
  hub's :class:`HistoryBuffer` objects, numpy arrays/scalars and — through
  ``HistoryBuffer.__getstate__`` — references to
  ``HistoryBuffer.min``/``max``/``current``/``mean`` pickled as
  ``getattr(HistoryBuffer, name)``. :func:`allow_mmengine_checkpoints` puts the
  non-tensor types mmengine writes on torch's allow-list (``getattr`` stays
  off it), stops ``HistoryBuffer`` pickling its default statistics methods,
  and makes a local file that still fails the safe load an
  :class:`UntrustedCheckpointError` naming the file and the global. Trusting
  it is an explicit opt-in: ``MMUSS_TRUST_CHECKPOINTS=1`` (the tools'
  ``--trust-checkpoint`` flag, or the config key ``trust_checkpoint = True``).
  Downloads keep torch's safe default. A file cut short or damaged is an
  :class:`IncompleteCheckpointError` saying so in words.
- **Naming.** :func:`last_checkpoint_of` reads a work dir's ``last_checkpoint``;
  :func:`resolve_checkpoint` turns a file, a glob or a work dir into one
  file; :func:`newest_intact_checkpoint` picks what ``--resume`` continues.
- **Partial loading.** :func:`checkpoint_state_dict` and
  :func:`state_under_prefix` give the entries of another run's checkpoint
  under a module prefix (``decode_head.``, ``backbone.``), as the three init
  paths (``CauseHeadInitHook``, ``CheckpointPrototypeInitHook``,
  ``FrozenCodeBackbone``) load them.
"""
import glob
import logging
import os
import os.path as osp
import pickle
import re
import struct
import zipfile
from typing import Any, List, Optional, Sequence

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


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A local checkpoint holding a global outside torch's safe-load allow-list."""


class IncompleteCheckpointError(RuntimeError):
    """A checkpoint file that is cut short or damaged; ``reason`` says how, in words."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename, self.reason = filename, reason
        super().__init__(f'{filename} is {reason}. Use an intact checkpoint (e.g. an earlier '
                         f'iter_*.pth; tools/train.py --resume without a path picks the newest '
                         f'intact one).')


REFUSAL_PATTERNS = (
    r'GLOBAL (\S+) (?:was not an allowed global|whose module)',
    r'unrecognized function (.+?)(?: which belongs to|$)',
    r'allowlisted via `add_safe_globals`,? but got (<class [^>]+>)',
)


def refused_global(err: Exception) -> Optional[str]:
    """The global (or callable/class) torch's safe loader refused in ``err``, else ``None``."""
    for pattern in REFUSAL_PATTERNS:
        found = re.search(pattern, str(err), flags=re.MULTILINE)
        if found:
            return found.group(1)
    return None


def container_damage(filename: str) -> Optional[str]:
    """What is wrong with a checkpoint file as a container, in words; ``None`` if it is whole.

    torch's zip format (``torch.save``'s default) is checked for its end record
    (lost when a write is cut short) and its members' CRCs; anything neither a
    zip archive nor a pickle is named as such. A legacy pickle file cannot be
    checked without reading it (``None``).
    """
    size = osp.getsize(filename)
    if size == 0:
        return 'not a complete checkpoint (truncated?): the file is empty'
    with open(filename, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        try:
            with zipfile.ZipFile(filename) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, EOFError, OSError):
            return (f'not a complete checkpoint (truncated?): its {size} bytes end before the '
                    f'archive\'s end record')
        return (None if bad is None else f'not a complete checkpoint (corrupt?): archive '
                f'member {bad} fails its checksum')
    if not head.startswith(b'\x80'):
        return f'not a checkpoint: it starts with {head!r}, neither a torch zip file nor a pickle'
    return None


# What torch and pickle say of data that ends early.
CUT_SHORT = ('truncated', 'unexpected EOF')
# What pickle says of a byte stream that is not (all) a pickle.
MALFORMED_PICKLE = ('invalid load key', 'Unsupported operand', 'stack underflow', 'MARK')


def load_failure_reason(filename: str, err: Exception) -> Optional[str]:
    """Why ``torch.load`` of ``filename`` failed with ``err`` when the file is to blame."""
    damage = container_damage(filename)
    if damage is None and (isinstance(err, (EOFError, struct.error))
                           or any(sign in str(err) for sign in CUT_SHORT)):
        damage = 'not a complete checkpoint (truncated?): its data ends early'
    elif damage is None and any(sign in str(err) for sign in MALFORMED_PICKLE):
        damage = 'not a valid checkpoint (corrupt?): its pickled data is malformed'
    return damage


def torch_load_file(filename: str, map_location: Optional[Any], weights_only: bool,
                    mmap: bool) -> Any:
    """``torch.load``; a cut-short or damaged file raises :class:`IncompleteCheckpointError`."""
    try:
        return torch.load(filename, map_location=map_location, weights_only=weights_only,
                          mmap=mmap)
    except Exception as err:  # the unpicklers raise many types; the file tells which matter
        if weights_only and refused_global(err) is not None:
            raise
        reason = load_failure_reason(filename, err)
        if reason is None:
            raise
        raise IncompleteCheckpointError(filename, reason) from None


def load_local_checkpoint(filename: str, map_location: Optional[Any] = None,
                          mmap: bool = False) -> Any:
    """mmengine's local-file loader: torch's safe load, unpickling only on explicit opt-in.

    ``mmap=True`` memory-maps a zip-format file (``torch.save``'s default), so
    tensors the caller never reads are never loaded; legacy files load fully.
    A refused global raises :class:`UntrustedCheckpointError`, a cut-short or
    damaged file :class:`IncompleteCheckpointError`, both naming the file.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    mmap = mmap and zipfile.is_zipfile(filename)
    try:
        return torch_load_file(filename, map_location, True, mmap)
    except pickle.UnpicklingError as err:
        culprit = refused_global(err)
        if culprit is None:
            raise
        if not checkpoints_trusted():
            raise UntrustedCheckpointError(
                f'Refusing to load {filename}: it holds the global {culprit}, which is not '
                f'among the types mmengine checkpoints need, and unpickling it could run '
                f'arbitrary code. If you trust this file, rerun with --trust-checkpoint (every '
                f'mmuss tool that reads checkpoints takes it), set trust_checkpoint = True in '
                f'the config, or set {TRUST_ENV}=1.') from None
        print_log(f'{filename} holds the global {culprit}; loading it with weights_only=False '
                  f'because {TRUST_ENV}=1.', logger='current', level=logging.WARNING)
        return torch_load_file(filename, map_location, False, mmap)


def allow_mmengine_checkpoints() -> None:
    """Install the safe-reading parts described in the module docstring (idempotent)."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(mmengine_checkpoint_globals())
    HistoryBuffer.__getstate__ = history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_local_checkpoint)


def read_checkpoint(filename: str, mmap: bool = False) -> Any:
    """What a checkpoint file holds, on the CPU, read as described in the module docstring.

    Args:
        filename: Local path or any scheme mmengine's ``CheckpointLoader`` reads.
        mmap: Memory-map a local file: entries the caller drops without reading
            (e.g. CAUSE's 800 MiB concept bank) are never loaded.
    """
    if mmap and osp.isfile(osp.expanduser(filename)):
        return load_local_checkpoint(filename, map_location='cpu', mmap=True)
    return CheckpointLoader.load_checkpoint(filename, map_location='cpu')


def checkpoint_state_dict(filename: str, mmap: bool = False) -> dict:
    """The ``state_dict`` of a checkpoint file (:func:`read_checkpoint`), without a DDP
    ``module.`` prefix.

    A file holding no state dict (neither a ``{'state_dict': ...}`` checkpoint
    nor a plain dict) raises a ``ValueError`` naming it.
    """
    ckpt = read_checkpoint(filename, mmap)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{filename} holds no state dict.')
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}

def state_under_prefix(state: dict, prefix: str, exclude: Sequence[str] = ()) -> dict:
    """The entries of ``state`` under ``prefix`` (e.g. ``'decode_head.'``), without it.

    Keys whose remainder starts with one of ``exclude`` are left out.
    """
    exclude = tuple(exclude)
    return {key[len(prefix):]: value for key, value in state.items()
            if key.startswith(prefix) and not (exclude and key[len(prefix):].startswith(exclude))}


def last_checkpoint_of(work_dir: str) -> Optional[str]:
    """The checkpoint ``<work_dir>/last_checkpoint`` names (mmengine writes it), else ``None``."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return f.read().strip() or None


def resolve_checkpoint(path: str, what: str) -> str:
    """The checkpoint file ``path`` names, for ``what`` (the reader and its config key).

    ``path`` is a checkpoint file; a glob pattern matching exactly one file
    (e.g. ``work_dirs/<config>/best_cluster_mIoU_iter_*.pth``: a best
    checkpoint's name carries its iteration); or a run's work dir, whose
    ``last_checkpoint`` names the file (looked up in that folder when the
    recorded path moved with it).

    Raises:
        FileNotFoundError: nothing matches, naming ``path`` and ``what``.
        ValueError: a pattern matches several files.
    """
    if glob.has_magic(path):
        matches = sorted(glob.glob(path))
        if len(matches) > 1:
            raise ValueError(f'{what}: {path!r} matches {len(matches)} files {matches}; name '
                             f'one of them.')
        if not matches:
            raise FileNotFoundError(f'{what}: no file matches {path!r}; train that run first or '
                                    f'set the key to its checkpoint.')
        return matches[0]
    if osp.isdir(path):
        recorded = last_checkpoint_of(path)
        if recorded is None:
            raise FileNotFoundError(f'{what}: {path!r} is a folder without last_checkpoint; '
                                    f'train that run first or give its checkpoint file.')
        moved = osp.join(path, osp.basename(recorded))
        path = recorded if osp.isfile(recorded) or not osp.isfile(moved) else moved
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what}: checkpoint {path!r} does not exist; train that run '
                                f'first or set the key to its checkpoint.')
    return path


def checkpoint_step(path: str) -> int:
    """The number in ``iter_N.pth`` / ``epoch_N.pth`` (-1 for other names)."""
    stem = osp.splitext(osp.basename(path))[0]
    number = stem.rsplit('_', 1)[-1]
    return int(number) if number.isdigit() else -1


def intact_checkpoint_error(path: str) -> Optional[str]:
    """``None`` if ``path`` loads, else why not, in words (a refused, untrusted pickle still
    raises)."""
    try:
        read_checkpoint(path)
    except IncompleteCheckpointError as err:
        return err.reason
    except UntrustedCheckpointError:
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
        return f'{type(err).__name__}: {err}'
    return None


def newest_intact_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (no path) continues from, or ``None`` to start afresh.

    That is the file ``work_dir/last_checkpoint`` names, as in mmengine; when
    it is missing or corrupt (e.g. a kill during a save), the newest intact
    ``*.pth`` in ``work_dir`` (by step, then time), with a warning naming the
    skipped files. Raises ``RuntimeError`` when checkpoints exist but none loads.
    """
    named = last_checkpoint_of(work_dir)
    candidates = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                        key=lambda p: (checkpoint_step(p), osp.getmtime(p)), reverse=True)
    if named:
        candidates = [named] + [c for c in candidates if osp.abspath(c) != osp.abspath(named)]
    skipped = []
    for path in candidates:
        error = intact_checkpoint_error(path) if osp.isfile(path) else 'file not found'
        if error is None:
            if skipped:
                print_log(f'Resuming from {path}, the newest intact checkpoint; skipped '
                          + '; '.join(skipped), logger='current', level=logging.WARNING)
            return path
        skipped.append(f'{path} ({error.splitlines()[0][:200]})')
    if skipped:
        raise RuntimeError('--resume found no intact checkpoint in ' + work_dir + ': '
                           + '; '.join(skipped))
    return None
