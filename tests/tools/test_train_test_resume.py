"""tools/train.py → checkpoint → --resume → tools/test.py, through mmengine's Runner."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from .conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def val_scalar(runner, key: str) -> float:
    return runner.message_hub.get_scalar(f'val/{key}').current()


def test_train_resume_and_test_reproduce_the_val_metric(
        tmp_path, tiny_data, tiny_config, train_tool, test_tool):
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'work'
    runner = train_tool.main([str(cfg), '--work-dir', str(work),
                              '--cfg-options', 'experiment_name=first'])
    assert runner.iter == 4
    val_miou = val_scalar(runner, 'cluster/mIoU')
    assert (work / 'iter_4.pth').is_file() and (work / 'iter_2.pth').is_file()

    resumed = train_tool.main([str(cfg), '--work-dir', str(work), '--resume', '--cfg-options',
                               'train_cfg.max_iters=6', 'experiment_name=resumed'])
    assert resumed.iter == 6
    assert (work / 'iter_6.pth').is_file()
    before = torch.load(work / 'iter_4.pth', map_location='cpu')['state_dict']
    after = torch.load(work / 'iter_6.pth', map_location='cpu')['state_dict']
    assert not torch.equal(before['decode_head.cluster_probe.prototypes'],
                           after['decode_head.cluster_probe.prototypes'])
    for key, value in before.items():  # the frozen backbone never moves
        if key.startswith('backbone.'):
            assert torch.equal(value, after[key]), key

    metrics = test_tool.main([str(cfg), str(work / 'iter_4.pth'), '--work-dir', str(tmp_path / 't'),
                              '--cfg-options', 'experiment_name=test'])
    assert metrics['cluster/mIoU'] == val_miou


def test_resume_from_explicit_checkpoint_restores_iteration(
        tmp_path, tiny_data, tiny_config, train_tool, test_tool):
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'work'
    train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options', 'experiment_name=a'])
    runner = train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'other'), '--resume',
                              str(work / 'iter_2.pth'), '--cfg-options', 'experiment_name=b'])
    assert runner.iter == 4


def test_missing_data_root_fails_early(tmp_path, tiny_config, train_tool, test_tool):
    cfg = tiny_config(tmp_path / 'does_not_exist')
    with pytest.raises(FileNotFoundError, match='does_not_exist'):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'w')])


def test_fewer_clusters_than_classes_fails_early(
        tmp_path, tiny_data, tiny_config, train_tool, test_tool):
    cfg = tiny_config(tiny_data)
    with pytest.raises(ValueError, match='num_clusters=3 is smaller than num_classes=6'):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                         'model.decode_head.num_clusters=3', 'experiment_name=k'])


def test_checkpoint_with_wrong_keys_names_the_file_and_keys(
        tmp_path, tiny_data, tiny_config, train_tool, test_tool):
    cfg = tiny_config(tiny_data)
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': {'decode_head.not_a_weight': torch.zeros(1)}}, bad)
    with pytest.raises(KeyError, match=r'bad\.pth.*not_a_weight'):
        test_tool.main([str(cfg), str(bad), '--work-dir', str(tmp_path / 't'),
                        '--cfg-options', 'experiment_name=bad'])


def test_two_process_training_matches_single_process_evaluation(
        tmp_path, tiny_data, tiny_config, train_tool, test_tool):
    """dist_train.sh with 2 gloo processes; the same checkpoint scored by one process agrees."""
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'ddp'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO))
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(cfg), '2', '--work-dir', str(work),
         '--cfg-options', 'experiment_name=ddp'],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scalars = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    ddp_val = [s for s in scalars if 'cluster/mIoU' in s and s['step'] == 4][-1]['cluster/mIoU']
    metrics = test_tool.main([str(cfg), str(work / 'iter_4.pth'), '--work-dir',
                              str(tmp_path / 'single'), '--cfg-options', 'experiment_name=single'])
    assert metrics['cluster/mIoU'] == ddp_val
