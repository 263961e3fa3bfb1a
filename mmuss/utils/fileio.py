"""The one atomic file writer: every file mmuss writes goes through :func:`atomic_write`.

A writer fills a temporary file in the destination's folder, which is flushed
to disk (``fsync``) and renamed over the destination (``os.replace``), so a
kill or a full disk never leaves a partial file under the final name; on any
failure (``ENOSPC`` included) the temporary file is removed.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Any, Callable


def _fsync_file(path: str) -> None:
    with open(path, 'rb+') as handle:
        os.fsync(handle.fileno())


def atomic_write(path: str, write: Callable[[str], None], suffix: str = '') -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    Args:
        path: Destination file; its folder is created when missing.
        write: Writes the whole content to the file name it is given.
        suffix: End of the temporary name, for writers that pick the format
            from the extension (e.g. ``'.png'``).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.',
                                   suffix=f'.tmp{suffix}')
    os.close(handle)
    try:
        write(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    def dump(tmp: str) -> None:
        with open(tmp, 'w', encoding='utf-8') as handle:
            handle.write(text)
    atomic_write(path, dump)


def atomic_write_json(path: str, data: Any, **dump_kwargs: Any) -> None:
    """Write ``data`` as JSON (``json.dump`` options in ``dump_kwargs``) to ``path`` atomically."""
    def dump(tmp: str) -> None:
        with open(tmp, 'w', encoding='utf-8') as handle:
            json.dump(data, handle, **dump_kwargs)
    atomic_write(path, dump)
