"""CAUSE's three steps end to end through tools/train.py and tools/test.py on tiny data."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmuss.datasets.synthetic_textures import generate_synthetic_textures

from .conftest import free_port

REPO = Path(__file__).resolve().parents[2]

COMMON = '''
_base_ = [{runtime!r}]
data_root = {root!r}
metainfo = dict(classes=('grass', 'sky', 'brick', 'sand', 'water', 'stone'))
base_dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
                    img_suffix='.png', seg_map_suffix='.png',
                    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]
train_dataloader = dict(batch_size={batch}, num_workers=0,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(base_dataset, pipeline=pipeline))
val_dataloader = dict(batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(base_dataset, pipeline=pipeline,
                 data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
val_evaluator = [dict(type='HungarianIoUMetric', prefix='cluster'),
                 dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg',
                      matching='none', prefix='linear')]
test_evaluator = val_evaluator
data_preprocessor = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                         size_divisor=4, seg_pad_val=255)
backbone = dict(type='DinoVisionTransformer', patch_size=4,
                arch=dict(embed_dims=16, num_layers=1, num_heads=2))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=5),
    sampler_seed=dict(type='DistSamplerSeedHook'))
clusterbook_file = {book!r}
'''

MEDIATOR = '''
model = dict(type='FrozenBackboneSegmentor', data_preprocessor=data_preprocessor,
             backbone=backbone, test_cfg=dict(mode='whole'),
             decode_head=dict(type='CauseMediatorHead', in_channels=16, num_classes=6,
                              num_codebook=8, grid_stride={grid}))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=4e-3))
val_dataloader = None
val_cfg = None
val_evaluator = None
custom_hooks = [dict(type='IterationSeedHook', seed=0),
                dict(type='CauseClusterbookHook', clusterbook_file=clusterbook_file)]
'''

HEAD = '''
head = dict(type={head_type!r}, in_channels=16, channels=6, num_classes=6, num_codebook=8,
            clusterbook_file=clusterbook_file, proj_channels=12, grid_stride=2, bank_size=5,
            front_door={front_door}, {extra})
model = dict(type='FrozenBackboneSegmentor', data_preprocessor=data_preprocessor,
             backbone=backbone, decode_head=head, test_cfg=dict(mode='whole'))
optim_wrapper = dict(type='OptimWrapper', constructor='SubsetClipOptimWrapperConstructor',
                     optimizer=dict(type='Adam', lr=4e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=2.0), clip_prefixes={clip!r},
                     paramwise_cfg=dict(custom_keys={{
                         'decode_head.cluster_probe': dict(decay_mult=0.0)}}))
custom_hooks = [dict(type='IterationSeedHook', seed=0)] + {hooks}
'''


def load_tool(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f'cause_tool_{name}',
                                                  REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_tool = load_tool('train')
test_tool = load_tool('test')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('cause_textures')
    generate_synthetic_textures(str(root), num_train=12, num_val=4, size=32, seed=7)
    return root


def write(path, root, book, body, batch=4):
    runtime = str(REPO / 'configs' / '_base_' / 'default_runtime.py')
    path.write_text(COMMON.format(runtime=runtime, root=str(root), book=str(book),
                                  batch=batch) + body)
    return str(path)


def head_config(path, root, book, kind, front_door, hooks='[]'):
    extra = 'num_queries=64' if kind == 'tr' else ''
    clip = (('decode_head.head.', 'decode_head.projection.', 'decode_head.linear_probe.')
            if front_door else ('decode_head.linear_probe.', 'decode_head.head_ema.'))
    body = HEAD.format(head_type='CauseTRHead' if kind == 'tr' else 'CauseMLPHead',
                       front_door=front_door, extra=extra, clip=clip, hooks=hooks)
    return write(path, root, book, body)


def state(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def train(cfg, work, name, *extra, options=()):
    return train_tool.main([cfg, '--work-dir', str(work), *extra,
                            '--cfg-options', f'experiment_name={name}', *options])


@pytest.fixture(scope='module')
def mediator(data_root, tmp_path_factory):
    """Step 1 trained once: (config, work dir, clusterbook path)."""
    tmp = tmp_path_factory.mktemp('cause_mediator')
    book = tmp / 'book' / 'clusterbook.npy'
    cfg = write(tmp / 'mediator.py', data_root, book, MEDIATOR.format(grid=2))
    runner = train(cfg, tmp / 'work', 'mediator')
    assert runner.iter == 6 and 'train/decode.loss_mod' in runner.message_hub.log_scalars
    return cfg, tmp / 'work', book


def test_mediator_writes_the_trained_clusterbook_and_resumes_identically(mediator, tmp_path):
    cfg, work, book = mediator
    first, last = state(work / 'epoch_1.pth'), state(work / 'epoch_2.pth')
    written = torch.from_numpy(np.load(book))
    assert written.shape == (8, 16)
    assert torch.equal(written, last['decode_head.clusterbook'])
    assert not torch.equal(first['decode_head.clusterbook'], last['decode_head.clusterbook'])
    for key in first:
        if key.startswith('backbone.'):
            assert torch.equal(first[key], last[key]), key
    resumed = tmp_path / 'resumed'
    train(cfg, resumed, 'mediator_resumed', '--resume', str(work / 'epoch_1.pth'))
    assert_same_state(last, state(resumed / 'epoch_2.pth'))


@pytest.mark.parametrize('kind', ['tr', 'mlp'])
def test_front_door_then_probe_fine_tuning_then_test(mediator, data_root, tmp_path, kind):
    _, _, book = mediator
    step2 = head_config(tmp_path / 'step2.py', data_root, book, kind, True)
    work2 = tmp_path / 'step2'
    runner = train(step2, work2, f'{kind}_step2')
    scalars = runner.message_hub.log_scalars
    for key in ('train/decode.loss_front', 'train/decode.loss_cluster_probe',
                'train/decode.loss_linear_probe', 'val/cluster/mIoU', 'val/linear/mIoU'):
        assert key in scalars, key
    first, last = state(work2 / 'epoch_1.pth'), state(work2 / 'epoch_2.pth')
    assert last['decode_head.bank.length'].sum() > 0
    assert last['decode_head.teacher.steps'].item() == 6
    assert torch.equal(last['decode_head.clusterbook'], torch.from_numpy(np.load(book)))
    ema = [k for k in last if k.startswith('decode_head.head_ema.')]
    assert ema and any(not torch.equal(first[k], last[k]) for k in ema)
    train(step2, tmp_path / 'resumed', f'{kind}_resumed', '--resume', str(work2 / 'epoch_1.pth'))
    assert_same_state(last, state(tmp_path / 'resumed' / 'epoch_2.pth'))

    hooks = f"[dict(type='CauseHeadInitHook', checkpoint={str(work2)!r})]"
    step3 = head_config(tmp_path / 'step3.py', data_root, book, kind, False, hooks)
    work3 = tmp_path / 'step3'
    runner = train(step3, work3, f'{kind}_step3')
    assert 'train/decode.loss_front' not in runner.message_hub.log_scalars
    val_miou = runner.message_hub.get_scalar('val/cluster/mIoU').current()
    probe = state(work3 / 'epoch_2.pth')
    for key, value in last.items():  # the step-2 head is loaded and stays frozen
        if key.startswith(('decode_head.head', 'decode_head.projection', 'backbone.')):
            assert torch.equal(value, probe[key]), key
    assert not any(k.startswith('decode_head.bank.') for k in probe)
    assert not torch.equal(last['decode_head.cluster_probe.prototypes'],
                           probe['decode_head.cluster_probe.prototypes'])

    # the reference's step 3: head_ema fine-tuned by the linear probe, the rest of the head frozen
    work3r = tmp_path / 'step3_reference'
    train(step3, work3r, f'{kind}_step3_ref', options=['model.decode_head.train_head_ema=True'])
    tuned = state(work3r / 'epoch_2.pth')
    assert all(not torch.equal(last[k], tuned[k]) for k in ema)
    for key, value in last.items():
        if key.startswith(('decode_head.head.', 'decode_head.projection', 'backbone.')):
            assert torch.equal(value, tuned[key]), key

    metrics = test_tool.main([step3, str(work3 / 'epoch_2.pth'), '--work-dir',
                              str(tmp_path / 'test'), '--cfg-options', f'experiment_name={kind}_t'])
    assert metrics['cluster/mIoU'] == val_miou
    refined = test_tool.main([step3, str(work3 / 'epoch_2.pth'), '--flip', '--crf',
                              '--crf-workers', '0', '--work-dir', str(tmp_path / 'flip'),
                              '--cfg-options', f'experiment_name={kind}_f'])
    assert 0 <= refined['cluster/mIoU'] <= 100


def test_missing_clusterbook_names_the_file_and_shape(data_root, tmp_path):
    cfg = head_config(tmp_path / 'step2.py', data_root, tmp_path / 'absent.npy', 'mlp', True)
    with pytest.raises(FileNotFoundError, match=r'absent\.npy.*8×16'):
        train(cfg, tmp_path / 'w', 'absent')


def test_probe_stage_without_a_step_two_checkpoint_names_it(mediator, data_root, tmp_path):
    hooks = f"[dict(type='CauseHeadInitHook', checkpoint={str(tmp_path / 'nowhere.pth')!r})]"
    cfg = head_config(tmp_path / 'step3.py', data_root, mediator[2], 'tr', False, hooks)
    with pytest.raises(FileNotFoundError, match=r'step2_work_dir.*front-door stage.*nowhere\.pth'):
        train(cfg, tmp_path / 'w', 'nowhere')


def dist_train(cfg, work):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO))
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), cfg, '2', '--work-dir', str(work),
         '--cfg-options', 'experiment_name=ddp'],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_two_process_mediator_equals_one_process_and_front_door_runs(data_root, tmp_path):
    """2 gloo ranks × batch 2 fit the same clusterbook as 1 process × batch 4 (no grid draw)."""
    book1, book2 = tmp_path / 'one.npy', tmp_path / 'two.npy'
    one = write(tmp_path / 'one.py', data_root, book1, MEDIATOR.format(grid=0), batch=4)
    two = write(tmp_path / 'two.py', data_root, book2, MEDIATOR.format(grid=0), batch=2)
    train(one, tmp_path / 'w1', 'one')
    dist_train(two, tmp_path / 'w2')
    assert np.allclose(np.load(book1), np.load(book2), atol=1e-5)
    after_one_epoch = state(tmp_path / 'w2' / 'epoch_1.pth')['decode_head.clusterbook']
    assert not np.allclose(after_one_epoch.numpy(), np.load(book2), atol=1e-3)

    step2 = head_config(tmp_path / 'step2.py', data_root, book2, 'tr', True)
    dist_train(step2, tmp_path / 'w3')
    scalars = [json.loads(line) for line in
               next((tmp_path / 'w3').glob('*/vis_data/scalars.json')).read_text().splitlines()]
    assert any('decode.loss_front' in s for s in scalars)
    bank = state(tmp_path / 'w3' / 'epoch_2.pth')['decode_head.bank.length']
    assert bank.sum() > 0
