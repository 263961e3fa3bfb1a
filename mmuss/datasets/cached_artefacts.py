"""Atomic, self-describing cache files (PriMaPs proposals, KNN tables).

A pre-compute tool writes every file through :func:`mmuss.utils.fileio.atomic_write`
(a kill never leaves a partial file under the final name) and records what made
the files in a manifest: the tool and its version, the config settings that
determine the output, the seed and the checkpoint's SHA-256. Resuming with
other settings is an error instead of a folder mixing two runs.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Any, List, Optional, Tuple

from mmuss.utils.fileio import atomic_write_json
from mmuss.version import __version__

MANIFEST_NAME = 'manifest.json'


def file_sha256(path: Optional[str]) -> Optional[str]:
    """SHA-256 hex digest of a local file; ``None`` for no file (random or init_cfg weights)."""
    if not path:
        return None
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def to_jsonable(value: Any) -> Any:
    """Config values as plain JSON types (tuples become lists, other objects strings)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def make_manifest(tool: str, tool_version: int, config: str, settings: dict,
                  checkpoint: Optional[str], seed: Optional[int]) -> dict:
    """What identifies a cache: tool, versions, config file, settings, seed, checkpoint hash."""
    return dict(tool=tool, tool_version=tool_version, mmuss_version=__version__,
                config=config, settings=to_jsonable(settings), seed=seed,
                checkpoint=checkpoint, checkpoint_sha256=file_sha256(checkpoint))


# Keys that must agree for a resumed run to extend a cache (file names may differ).
IDENTITY_KEYS = ('tool', 'tool_version', 'settings', 'seed', 'checkpoint_sha256')


def differences(stored: Any, current: Any, key: str) -> List[Tuple[str, Any, Any]]:
    """``(dotted key, stored, current)`` of every leaf where two JSON values differ."""
    if isinstance(stored, dict) and isinstance(current, dict):
        return [d for k in sorted(set(stored) | set(current), key=str)
                for d in differences(stored.get(k), current.get(k), f'{key}.{k}')]
    if (isinstance(stored, list) and isinstance(current, list)
            and len(stored) == len(current)):
        return [d for i, (a, b) in enumerate(zip(stored, current))
                for d in differences(a, b, f'{key}.{i}')]
    return [] if stored == current else [(key, stored, current)]


def manifest_mismatch(stored: dict, current: dict) -> List[Tuple[str, Any, Any]]:
    """Where two manifests' identity keys (:data:`IDENTITY_KEYS`) differ, leaf by leaf."""
    return [d for k in IDENTITY_KEYS for d in differences(stored.get(k), current.get(k), k)]


def short(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def read_json(path: str, regenerate: str) -> dict:
    """A JSON file; an unreadable one is an error naming it and ``regenerate`` (the fix)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValueError(f'Cannot read {path}: {exc}; {regenerate}') from exc


def claim_folder(out_dir: str, manifest: dict, regenerate: str, suffix: str = '.png') -> bool:
    """Write ``out_dir``'s manifest, or check a stored one; ``True`` when one was kept.

    A folder holding no ``suffix`` file belongs to no run yet: its manifest
    (e.g. of a run that failed before writing anything) is replaced. Otherwise
    a stored manifest with other identity keys (:data:`IDENTITY_KEYS`) is a
    ``ValueError`` naming each differing entry with both values; so are
    ``suffix`` files without any manifest (their origin is unknown).
    """
    path = osp.join(out_dir, MANIFEST_NAME)
    holds = osp.isdir(out_dir) and any(name.endswith(suffix) for name in os.listdir(out_dir))
    if holds and not osp.isfile(path):
        raise ValueError(f'{out_dir} holds {suffix} files but no {MANIFEST_NAME}: they were '
                         f'written by an older tool version or another program. Use another '
                         f'output folder, or delete it to start over.')
    if holds:
        differ = manifest_mismatch(read_json(path, regenerate), manifest)
        if differ:
            listed = '; '.join(f'{k}: stored {short(a)}, now {short(b)}' for k, a, b in differ[:8])
            more = f' (and {len(differ) - 8} more)' if len(differ) > 8 else ''
            raise ValueError(f'{out_dir} was written by another run ({path}: {listed}{more}). '
                             f'Use another output folder, or delete it to start over.')
        return True
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(path, manifest, indent=2, sort_keys=True)
    return False
