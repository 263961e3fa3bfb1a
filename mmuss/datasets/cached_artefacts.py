"""Atomic, self-describing cache files (PriMaPs proposals, KNN tables).

A pre-compute tool writes every file through a temporary file and a rename (a
kill never leaves a partial file under the final name) and records what made
the files in a manifest: the tool and its version, the config settings that
determine the output, the seed and the checkpoint's SHA-256. Resuming with
other settings is an error instead of a folder mixing two runs.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Any, Callable, Optional

from mmuss.version import __version__

MANIFEST_NAME = 'manifest.json'


def atomic_write(path: str, write: Callable[[str], None], suffix: str = '') -> None:
    """Call ``write(tmp)`` on a temporary name next to ``path``, then rename it to ``path``.

    ``suffix`` ends the temporary name (writers that pick the format from the
    extension need it, e.g. ``'.png'``).
    """
    tmp = f'{path}.tmp{os.getpid()}{suffix}'
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


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


def manifest_mismatch(stored: dict, current: dict) -> list:
    """The identity keys on which two manifests differ."""
    return [k for k in IDENTITY_KEYS if stored.get(k) != current.get(k)]


def write_json(path: str, data: dict) -> None:
    """Write ``data`` as indented JSON, atomically."""
    def dump(tmp: str) -> None:
        with open(tmp, 'w') as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
    atomic_write(path, dump)


def read_json(path: str, regenerate: str) -> dict:
    """A JSON file; an unreadable one is an error naming it and ``regenerate`` (the fix)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValueError(f'Cannot read {path}: {exc}; {regenerate}') from exc


def claim_folder(out_dir: str, manifest: dict, regenerate: str, suffix: str = '.png') -> bool:
    """Write ``out_dir``'s manifest, or check a stored one; ``True`` when one was stored.

    A stored manifest with other identity keys (:data:`IDENTITY_KEYS`) is a
    ``ValueError`` naming the keys and both values; so are files ending in
    ``suffix`` without any manifest (their origin is unknown).
    """
    path = osp.join(out_dir, MANIFEST_NAME)
    if not osp.isfile(path) and osp.isdir(out_dir) and any(
            name.endswith(suffix) for name in os.listdir(out_dir)):
        raise ValueError(f'{out_dir} holds {suffix} files but no {MANIFEST_NAME}: they were '
                         f'written by an older tool version or another program. Use another '
                         f'output folder, or delete it to start over.')
    if osp.isfile(path):
        stored = read_json(path, regenerate)
        differ = manifest_mismatch(stored, manifest)
        if differ:
            detail = '; '.join(f'{k}: stored {stored.get(k)!r}, now {manifest.get(k)!r}'
                               for k in differ)
            raise ValueError(f'{out_dir} was written by another run ({path}: {detail}). Use '
                             f'another output folder, or delete it to start over.')
        return True
    os.makedirs(out_dir, exist_ok=True)
    write_json(path, manifest)
    return False
