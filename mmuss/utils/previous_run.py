"""The checkpoint of an earlier training run that a config builds upon."""
import glob
import os.path as osp


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
        pointer = osp.join(path, 'last_checkpoint')
        if not osp.isfile(pointer):
            raise FileNotFoundError(f'{what}: {path!r} is a folder without last_checkpoint; '
                                    f'train that run first or give its checkpoint file.')
        with open(pointer) as f:
            recorded = f.read().strip()
        moved = osp.join(path, osp.basename(recorded))
        path = recorded if osp.isfile(recorded) or not osp.isfile(moved) else moved
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what}: checkpoint {path!r} does not exist; train that run '
                                f'first or set the key to its checkpoint.')
    return path
