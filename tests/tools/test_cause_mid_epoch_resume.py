"""The CAUSE mediator stage, stopped mid-epoch and resumed with tools/train.py --resume, fits
the clusterbook of the uninterrupted run without training any batch twice.

12 images in batches of 2: one epoch of 6 iterations, the mediator base's loop and iteration
checkpoints every 2 iterations. The stopped run raises after iteration 5 (iter_4.pth is its
last checkpoint); the resumed run must train batches 5 and 6 only.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ..train_loop_toys import Interrupted, StopAfter
from .conftest import free_port
from .test_cause_train import MEDIATOR, REPO, data_root, state, train, write  # noqa: F401

SEEN = {}
BASE = Config.fromfile(REPO / 'configs' / '_base_' / 'cause' / 'cause_mediator.py')


@HOOKS.register_module(force=True)
class RecordImagesForResumeTest(Hook):
    """Appends the image names of every train batch to ``SEEN[name]``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        names = [s.img_path.rsplit('/', 1)[-1] for s in data_batch['data_samples']]
        SEEN.setdefault(self.name, []).append(names)


HOOKS.register_module(module=StopAfter, force=True)


def mediator_config(path, root, book, hooks=(), batch=2, max_epochs=1, interval=2, keep=1):
    """The test's tiny mediator with the shipped loop and iteration checkpoints."""
    body = MEDIATOR.format(grid=2) + f'''
train_cfg = dict({BASE.train_cfg.to_dict()!r}, max_epochs={max_epochs})
default_hooks = dict(default_hooks, checkpoint=dict(type='CheckpointHook', interval=1),
                     iter_checkpoint=dict({BASE.default_hooks.iter_checkpoint.to_dict()!r},
                                          interval={interval}, max_keep_ckpts={keep}))
custom_hooks = custom_hooks + [{', '.join(hooks)}]
'''
    return write(path, root, book, body, batch=batch)


def recorded(name, stop_after=None):
    hooks = [f"dict(type='RecordImagesForResumeTest', name={name!r})"]
    if stop_after:
        hooks.append(f"dict(type='StopAfter', iteration={stop_after})")
    return hooks


def test_stopped_mediator_resumes_at_its_next_batch(data_root, tmp_path):  # noqa: F811
    SEEN.clear()
    full_book, book = tmp_path / 'full.npy', tmp_path / 'resumed.npy'
    full = mediator_config(tmp_path / 'full.py', data_root, full_book, recorded('full'))
    runner = train(full, tmp_path / 'full', 'mid_full')
    assert runner.iter == 6 and len(SEEN['full']) == 6

    work = tmp_path / 'stopped'
    stopped = mediator_config(tmp_path / 'stopped.py', data_root, book, recorded('stopped', 5))
    with pytest.raises(Interrupted):
        train(stopped, work, 'mid_stopped')
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_4.pth']
    assert not book.exists()
    at_stop = state(work / 'iter_4.pth')['decode_head.clusterbook'].numpy()

    resumed = mediator_config(tmp_path / 'resumed.py', data_root, book, recorded('resumed'))
    runner = train(resumed, work, 'mid_resumed', '--resume')
    assert SEEN['stopped'] == SEEN['full'][:5]
    assert SEEN['resumed'] == SEEN['full'][4:]  # batches 5 and 6, nothing of 1-4 again
    assert runner.iter == 6
    assert np.array_equal(np.load(book), np.load(full_book))
    assert not np.array_equal(np.load(book), at_stop)  # batches 5 and 6 moved it
    assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_1.pth', 'iter_6.pth']


def dist_train(cfg, work, *extra):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO))
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), cfg, '2', '--work-dir', str(work),
         *extra, '--cfg-options', 'experiment_name=ddp'],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def logged_iterations(work):
    lines = next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()
    return [json.loads(line)['iter'] for line in lines]


@pytest.mark.slow
def test_two_process_mediator_resumes_inside_its_second_epoch(data_root, tmp_path):  # noqa: F811
    """2 ranks × batch 2: 3 iterations per epoch; iter_4.pth is 1 batch into epoch 2."""
    full_book, book = tmp_path / 'full.npy', tmp_path / 'resumed.npy'
    full = mediator_config(tmp_path / 'full.py', data_root, full_book, max_epochs=2,
                           interval=1, keep=-1)
    dist_train(full, tmp_path / 'full')
    assert logged_iterations(tmp_path / 'full') == [1, 2, 3, 4, 5, 6]

    work = tmp_path / 'resumed'
    work.mkdir()
    shutil.copy(tmp_path / 'full' / 'iter_4.pth', work / 'iter_4.pth')
    resumed = mediator_config(tmp_path / 'resumed.py', data_root, book, max_epochs=2,
                              interval=1, keep=-1)
    dist_train(resumed, work, '--resume', str(work / 'iter_4.pth'))
    assert logged_iterations(work) == [5, 6]
    assert np.array_equal(np.load(book), np.load(full_book))
