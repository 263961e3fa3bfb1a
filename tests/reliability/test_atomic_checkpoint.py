"""A kill during a checkpoint save keeps the previous checkpoint; --resume skips a corrupt one."""
import os
import subprocess
import sys

import torch

from ..tools.conftest import REPO

# Runs tools/train.py, but the 2nd checkpoint write stops the process half-way (as a kill would).
DYING_SAVE = '''
import os, runpy, sys
from mmengine.fileio.backends import LocalBackend
put, calls = LocalBackend.put, []
def dying_put(self, obj, filepath):
    if '.pth' in str(filepath):
        calls.append(filepath)
        if len(calls) == 2:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            os._exit(137)
    return put(self, obj, filepath)
LocalBackend.put = dying_put
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def test_kill_during_save_keeps_the_previous_checkpoint(tmp_path, tiny_data, tiny_config,
                                                        train_tool):
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'work'
    keep_one = ['default_hooks.checkpoint.max_keep_ckpts=1']
    proc = subprocess.run(
        [sys.executable, '-c', DYING_SAVE, str(REPO / 'tools' / 'train.py'), str(cfg),
         '--work-dir', str(work), '--cfg-options', *keep_one, 'experiment_name=killed'],
        env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1'), cwd=tmp_path,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 137, proc.stderr[-2000:]
    state = torch.load(work / 'iter_2.pth', map_location='cpu')['state_dict']
    assert 'decode_head.cluster_probe.prototypes' in state

    runner = train_tool.main([str(cfg), '--work-dir', str(work), '--resume', '--cfg-options',
                              *keep_one, 'experiment_name=resumed'])
    assert runner.iter == 4
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_4.pth']


def test_resume_falls_back_to_the_newest_intact_checkpoint(tmp_path, tiny_data, tiny_config,
                                                           train_tool, capfd):
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'work'
    train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options', 'experiment_name=a'])
    last = work / 'iter_4.pth'
    assert (work / 'last_checkpoint').read_text().strip() == str(last)
    data = last.read_bytes()
    last.write_bytes(data[:len(data) // 2])

    runner = train_tool.main([str(cfg), '--work-dir', str(work), '--resume', '--cfg-options',
                              'train_cfg.max_iters=6', 'experiment_name=b'])
    assert runner.iter == 6
    out = capfd.readouterr()
    assert 'iter_2.pth, the newest intact checkpoint' in out.out + out.err
    assert 'iter_4.pth' in out.out + out.err


def test_best_checkpoint_saves_are_atomic_too(tmp_path, tiny_data, tiny_config, train_tool):
    """save_best re-enters the interval save (mmengine rewrites the last checkpoint with the new
    best score): both writes go through the temp-and-rename path and leave no temp file."""
    cfg = tiny_config(tiny_data, default_hooks=(
        "dict(logger=dict(interval=1), checkpoint=dict(type='AtomicCheckpointHook', interval=2, "
        "max_keep_ckpts=1, save_best='cluster/mIoU', rule='greater'))"))
    work = tmp_path / 'work'
    train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options', 'experiment_name=best'])
    best = list(work.glob('best_cluster_mIoU_iter_*.pth'))
    assert len(best) == 1 and torch.load(best[0], map_location='cpu', weights_only=True)
    assert (work / 'iter_4.pth').is_file() and not (work / 'iter_2.pth').exists()
    assert not list(work.glob('*.tmp'))
