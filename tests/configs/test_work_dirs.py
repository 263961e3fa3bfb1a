"""Shipped configs train into distinct work dirs and read other runs only from their own method."""
import argparse
import os
from pathlib import Path

from mmengine.config import Config

from mmuss.apis.run_config import load_run_config

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


def work_dir(path: Path) -> str:
    """The work dir tools/train.py gives ``path`` without --work-dir."""
    args = argparse.Namespace(config=str(path), cfg_options=None, launcher='none', work_dir=None)
    return os.path.normpath(load_run_config(args).work_dir)


def strings(node):
    """Every string anywhere below ``node``."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from strings(value)


def test_every_config_has_its_own_work_dir():
    owners = {}
    for path in SHIPPED:
        owners.setdefault(work_dir(path), []).append(str(path.relative_to(REPO)))
    shared = {d: paths for d, paths in owners.items() if len(paths) > 1}
    assert not shared, f'configs sharing a work dir: {shared}'


def test_work_dir_reads_follow_the_method():
    """A path into work_dirs/ names a shipped config's work dir of the method built upon."""
    by_dir = {work_dir(path): path for path in SHIPPED}
    reads = 0
    for path in SHIPPED:
        method = path.stem.split('_')[0].split('-')
        for value in strings(Config.fromfile(str(path)).to_dict()):
            if not value.startswith('work_dirs/'):
                continue
            folder = os.path.normpath(value)
            if folder not in by_dir:  # a file inside the work dir
                folder = os.path.dirname(folder)
            assert folder in by_dir, f'{path.name} reads {value}: no shipped config trains there'
            if by_dir[folder] == path:  # its own output (CAUSE's mediator writes the clusterbook)
                continue
            source = by_dir[folder].stem.split('_')[0].split('-')[0]
            assert source in method, (path.name, value)
            reads += 1
    assert reads >= 6 * 3 + 3  # PriMaPs-EM on STEGO/HP (3 keys each), the linear probe (3)
