"""Runs that cannot work stop before training with a message saying why and what to change."""
import os
import subprocess
import sys

import pytest

from .conftest import REPO


def test_amp_on_cpu_is_refused_in_one_line(tmp_path, tiny_data, tiny_config):
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(tiny_config(tiny_data)), '--amp',
         '--work-dir', str(tmp_path / 'w')],
        env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=tmp_path, capture_output=True,
        text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("--amp needs a CUDA GPU (mmengine's AmpOptimWrapper scales "
                                   "fp16 losses on the GPU); on CPU, train without --amp.")
    assert not (tmp_path / 'w').exists()


def test_zero_training_iterations_fail_early(tmp_path, tiny_data, tiny_config, train_tool):
    with pytest.raises(ValueError, match=r'train_dataloader yields no batch: 12 images, '
                       r'batch_size 16, drop_last=True'):
        train_tool.main([str(tiny_config(tiny_data)), '--work-dir', str(tmp_path / 'w'),
                         '--cfg-options', 'train_dataloader.batch_size=16',
                         'train_dataloader.drop_last=True', 'experiment_name=empty'])


def test_prototype_init_logs_the_batches_it_read(tmp_path, tiny_data, tiny_config, train_tool,
                                                 capfd):
    cfg = tiny_config(tiny_data, custom_hooks="[dict(type='PrototypeInitHook', "
                      "method='kmeans', num_batches=10)]")
    train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                     'train_cfg.max_iters=1', 'experiment_name=init'])
    captured = capfd.readouterr()
    assert 'from 3 batches (asked for 10' in captured.out + captured.err  # 12 images / 4


def test_missing_data_root_names_the_dataloader(tmp_path, tiny_data, tiny_config, train_tool):
    cfg = tiny_config(tiny_data)
    with pytest.raises(FileNotFoundError, match=r"'/nowhere'.*in val_dataloader"):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                         'val_dataloader.dataset.data_root=/nowhere'])


def test_encoder_decoder_with_a_uss_head_points_to_frozen_backbone_segmentor(
        tmp_path, tiny_data, tiny_config, train_tool, test_tool):
    cfg = tiny_config(tiny_data)
    match = r"EncoderDecoder.*model.type='FrozenBackboneSegmentor'"
    # mmseg's EncoderDecoder takes no sizes from the backbone: the preprocessor's is stated
    with pytest.raises(TypeError, match=match):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                         'model.type=EncoderDecoder', 'model.data_preprocessor.size_divisor=4',
                         'train_cfg.max_iters=2',
                         'experiment_name=encdec'])
    train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'ok'), '--cfg-options',
                     'train_cfg.max_iters=2', 'experiment_name=fbs'])
    with pytest.raises(TypeError, match=match):
        test_tool.main([str(cfg), str(tmp_path / 'ok' / 'iter_2.pth'), '--work-dir',
                        str(tmp_path / 't'), '--cfg-options', 'model.type=EncoderDecoder',
                        'experiment_name=encdec_test'])
