"""STEGO and HP end to end through tools/train.py on tiny synthetic data, incl. resume."""
import importlib.util
from pathlib import Path

import pytest
import torch

from mmuss.datasets.synthetic_textures import generate_synthetic_textures

REPO = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'stego_hp_tool_{name}',
                                                  REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_tool = load_tool('train')
knn_tool = load_tool('precompute_knns')

COMMON = '''
_base_ = [{runtime!r}]
data_root = {root!r}
metainfo = dict(classes=('grass', 'sky', 'brick', 'sand', 'water', 'stone'))
base_dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
                    img_suffix='.png', seg_map_suffix='.png',
                    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
val_dataloader = dict(batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(base_dataset,
                 data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                           dict(type='PackSegInputs')]))
test_dataloader = val_dataloader
val_evaluator = [dict(type='HungarianIoUMetric', prefix='cluster'),
                 dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg',
                      matching='none', prefix='linear')]
test_evaluator = val_evaluator
data_preprocessor = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                         size_divisor=4, seg_pad_val=255)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=5),
    sampler_seed=dict(type='DistSamplerSeedHook'))
'''

STEGO = '''
model = dict(
    type='FrozenBackboneSegmentor', data_preprocessor=data_preprocessor,
    backbone=dict(type='DinoVisionTransformer', patch_size=4, out_attn=True,
                  arch=dict(embed_dims=16, num_layers=1, num_heads=2)),
    decode_head=dict(type='StegoHead', in_channels=16, channels=8, num_classes=6,
                     loss_corr=dict(type='StegoCorrelationLoss', feature_samples=3)),
    test_cfg=dict(mode='whole'))
train_dataloader = dict(batch_size=4, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='KNNPairDataset', knn_file={knn!r}, num_neighbors=3,
                 dataset=dict(base_dataset, pipeline=[
                     dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                     dict(type='PackSegInputs')])))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4),
    paramwise_cfg=dict(custom_keys={{'decode_head.linear_probe': dict(lr_mult=10.0),
                                     'decode_head.cluster_probe': dict(lr_mult=10.0)}}))
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
'''


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('stego_hp_textures')
    generate_synthetic_textures(str(root), num_train=12, num_val=4, size=32, seed=5)
    return root


def write_config(tmp_path, root, body, **fmt):
    runtime = str(REPO / 'configs' / '_base_' / 'default_runtime.py')
    path = tmp_path / 'config.py'
    path.write_text(COMMON.format(runtime=runtime, root=str(root)) + body.format(**fmt))
    return str(path)


def state(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def resume(cfg, checkpoint, work_dir, name):
    """``tools/train.py --resume CHECKPOINT`` into another work dir."""
    return train_tool.main([cfg, '--work-dir', str(work_dir), '--resume', str(checkpoint),
                            '--cfg-options', f'experiment_name={name}'])


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_stego_trains_from_precomputed_knns_and_resume_reproduces(tmp_path, data_root):
    knn_file = tmp_path / 'nns.npz'
    cfg = write_config(tmp_path, data_root, STEGO, knn=str(knn_file))
    assert knn_tool.main([cfg, '--out', str(knn_file), '--topk', '5', '--chunk-size', '4',
                          '--batch-size', '4', '--num-workers', '0']) == str(knn_file)

    work = tmp_path / 'full'
    runner = train_tool.main([cfg, '--work-dir', str(work),
                              '--cfg-options', 'experiment_name=stego_full'])
    assert runner.iter == 4
    scalars = runner.message_hub.log_scalars
    for key in ('train/decode.loss_corr_self', 'train/decode.loss_corr_knn',
                'train/decode.loss_corr_rand', 'val/cluster/mIoU', 'val/linear/mIoU'):
        assert key in scalars, key
    start, end = state(work / 'iter_2.pth'), state(work / 'iter_4.pth')
    assert not torch.equal(start['decode_head.linear.weight'], end['decode_head.linear.weight'])
    for key in start:
        if key.startswith('backbone.'):
            assert torch.equal(start[key], end[key]), key

    resumed = resume(cfg, work / 'iter_2.pth', tmp_path / 'resumed', 'stego_resumed')
    assert resumed.iter == 4
    assert_same_state(end, state(tmp_path / 'resumed' / 'iter_4.pth'))

HP = '''
model = dict(
    type='FrozenBackboneSegmentor', data_preprocessor=data_preprocessor,
    backbone=dict(type='DinoVisionTransformer', patch_size=4, out_attn=True,
                  arch=dict(embed_dims=16, num_layers=1, num_heads=2)),
    decode_head=dict(type='HPHead', in_channels=16, channels=8, num_classes=6,
                     pool_size={pool_size}, ema_momentum=0.99, sigma=8.0,
                     loss_hp=dict(type='HiddenPositiveLoss', temperature=0.6, neg_ratio=0.5,
                                  chunk_size=64),
                     loss_consistency=dict(type='PatchConsistencyLoss', loss_weight=0.05)),
    test_cfg=dict(mode='whole'))
train_dataloader = dict(batch_size=4, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(base_dataset, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='NormalisedPhotometricView'),
        dict(type='PackMultiViewSegInputs')]))
optim_wrapper = dict(type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.1),
    paramwise_cfg=dict(custom_keys={{
        'decode_head.project_head': dict(decay_mult=0.0),
        'decode_head.linear_probe': dict(lr_mult=2.0, decay_mult=0.0),
        'decode_head.cluster_probe': dict(lr_mult=10.0, decay_mult=0.0)}}))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6, val_interval=3)
custom_hooks = [dict(type='IterationSeedHook', seed=0), dict(type='HPLambdaHook', warmup=1),
                dict(type='ReferencePoolHook', batch_size=4, renew_interval=2)]
'''


def test_hp_trains_renews_its_pool_and_resume_reproduces(tmp_path, data_root):
    cfg = write_config(tmp_path, data_root, HP, pool_size=8)
    work = tmp_path / 'full'
    runner = train_tool.main([cfg, '--work-dir', str(work),
                              '--cfg-options', 'experiment_name=hp_full'])
    assert runner.iter == 6
    scalars = runner.message_hub.log_scalars
    for key in ('train/decode.loss_hp', 'train/decode.loss_consistency',
                'train/decode.loss_cluster_probe', 'val/cluster/mIoU', 'val/linear/mIoU'):
        assert key in scalars, key
    # 12 images / batch 4 = 3 iterations per epoch; renewal at within-epoch index 2: t = 2, 5
    assert runner.message_hub.get_info('hp/pool_renewal_iter') == 5
    assert scalars['train/hp_lambda'].current() == pytest.approx((5 - 1) / (6 - 1))
    ckpts = {t: state(work / f'iter_{t}.pth') for t in (2, 4, 6)}
    pool_sp = 'decode_head.pool_specific'
    assert not torch.equal(ckpts[2][pool_sp], ckpts[4][pool_sp])  # renewed at t = 2
    assert not torch.equal(ckpts[4][pool_sp], ckpts[6][pool_sp])  # renewed at t = 5
    for t in (4, 6):  # the backbone pool never changes
        assert torch.equal(ckpts[2]['decode_head.pool_agnostic'],
                           ckpts[t]['decode_head.pool_agnostic'])
    assert not torch.equal(ckpts[2]['decode_head.ema_linear.weight'],
                           ckpts[6]['decode_head.ema_linear.weight'])

    resume(cfg, work / 'iter_4.pth', tmp_path / 'resumed', 'hp_resumed')
    assert_same_state(ckpts[6], state(tmp_path / 'resumed' / 'iter_6.pth'))


def test_pool_larger_than_the_dataset_fails_clearly(tmp_path, data_root):
    cfg = write_config(tmp_path, data_root, HP, pool_size=13)
    with pytest.raises(ValueError, match=r'pool size 13 is larger than the training set \(12'):
        train_tool.main([cfg, '--work-dir', str(tmp_path / 'w'),
                         '--cfg-options', 'experiment_name=hp_big_pool'])
