"""PriMaPs-EM end to end: tools/precompute_primaps.py → tools/train.py (cached and online)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmuss.datasets.synthetic_textures import generate_synthetic_textures

from .. import primaps_toys  # noqa: F401  (registers PatchColourBackbone)
from .conftest import REPO, free_port, load_tool

train_tool = load_tool('train')
precompute_tool = load_tool('precompute_primaps')
BASE = REPO / 'configs' / '_base_'
WARMUP, EM_ITERS = 4, 36


@pytest.fixture(scope='module')
def textures(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('primaps_textures')
    generate_synthetic_textures(str(root), num_train=24, num_val=8, size=32, seed=5)
    return root


def write_config(tmp_path: Path, data_root: Path, online: bool, max_iters: int) -> Path:
    proposals = tmp_path / 'proposals'
    load = '' if online else f'dict(type="LoadPrimapsMasks", proposal_root={str(proposals)!r}),'
    pack = ('dict(type="PackMultiViewSegInputs")' if online else
            'dict(type="PackMultiViewSegInputs", pixel_keys=["gt_primaps"])')
    proposer = 'dict(type="PrimapsProposer")' if online else 'None'
    text = f'''
_base_ = [{str(BASE / 'datasets' / 'synthetic_textures.py')!r},
          {str(BASE / 'default_runtime.py')!r},
          {str(BASE / 'schedules' / 'frozen_probe_2k.py')!r}]
data_root = {str(data_root)!r}
model = dict(
    type='FrozenBackboneSegmentor',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, size_divisor=4,
                           seg_pad_val=255),
    backbone=dict(type='PatchColourBackbone'),
    decode_head=dict(type='PrimapsEMHead', in_channels=16, num_classes=6,
                     student_view='img_student', proposer={proposer}),
    test_cfg=dict(mode='whole'))
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), {load}
    dict(type='RandomFlip', prob=0.5),
    dict(type='NormalisedPhotometricView', key='img_student', brightness=0.1, contrast=0.1,
         saturation=0.1, hue=0.1, grayscale_prob=0.0, blur_prob=1.0),
    {pack}]
train_dataloader = dict(batch_size=8, dataset=dict(data_root=data_root,
                                                   pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_theta_r_sem_seg', prefix='theta_r')]
test_evaluator = val_evaluator
primaps_precompute = dict(
    out_dir={str(proposals)!r},
    proposer=dict(type='PrimapsProposer'),
    dataloader=dict(batch_size=8, num_workers=0, dataset=dict(
        type='BaseSegDataset', data_root=data_root, img_suffix='.png', seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')])))
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.05))
custom_hooks = [dict(type='PrototypeInitHook', method='pca', num_batches=3),
                dict(type='PrimapsEMHook', warmup_iters={WARMUP}, interval=2)]
train_cfg = dict(max_iters={max_iters}, val_interval={WARMUP})
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval={WARMUP},
                     max_keep_ckpts=20))
'''
    path = tmp_path / ('online.py' if online else 'cached.py')
    path.write_text(text)
    return path


def val_history(runner, key: str = 'cluster/mIoU') -> list:
    """Every validation value of ``key`` in this run, in order."""
    return runner.message_hub.get_scalar(f'val/{key}').data[0].tolist()


@pytest.mark.parametrize('online', [False, True])
def test_em_beats_its_initialisation(tmp_path, textures, online):
    cfg = write_config(tmp_path, textures, online, WARMUP + EM_ITERS)
    if not online:
        assert precompute_tool.main([str(cfg)]) == 24
        ids = np.asarray(Image.open(tmp_path / 'proposals' / '0000.png'))
        assert ids.shape == (32, 32) and ids.dtype == np.uint8
        assert precompute_tool.main([str(cfg)]) == 0  # resumable: everything is done
    work = tmp_path / 'work'
    runner = train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options',
                              f'experiment_name={"online" if online else "cached"}'])
    assert bool(runner.model.decode_head.em_active)
    history = val_history(runner)
    assert len(history) == 1 + EM_ITERS // WARMUP
    initial, final = history[0], history[-1]
    print(f'PriMaPs-EM ({"online" if online else "cached"}): mIoU {initial} -> {final}')
    assert final > initial


def test_resume_reproduces_uninterrupted_run(tmp_path, textures):
    cfg = write_config(tmp_path, textures, False, 12)
    precompute_tool.main([str(cfg)])
    cfg.write_text(cfg.read_text().replace(
        "dict(type='PrototypeInitHook', method='pca', num_batches=3),", ''))
    straight = train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'a'), '--cfg-options',
                                'experiment_name=a'])
    train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'b'), '--cfg-options',
                     'train_cfg.max_iters=8', 'experiment_name=b1'])
    resumed = train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'b'), '--resume',
                               '--cfg-options', 'experiment_name=b2'])
    a, b = straight.model.decode_head, resumed.model.decode_head
    assert int(a.teacher.updates) == int(b.teacher.updates) == 3  # t = iter − 4 ∈ {2, 4, 6}
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name]), name
    assert val_history(straight)[-1] == val_history(resumed)[-1]


def test_missing_proposal_names_the_image(tmp_path):
    transform = TRANSFORMS.build(dict(type='LoadPrimapsMasks', proposal_root=str(tmp_path)))
    results = dict(img_path='/data/city/frankfurt_000001_leftImg8bit.png',
                   img=np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match='frankfurt_000001_leftImg8bit'):
        transform(results)
    Image.fromarray(np.full((4, 5), 255, np.uint8)).save(
        tmp_path / 'frankfurt_000001_leftImg8bit.png')
    with pytest.raises(ValueError, match=r'\(4, 5\)'):
        transform(results)


def test_precompute_on_two_ranks_matches_one_process(tmp_path, textures):
    cfg = write_config(tmp_path, textures, False, 4)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=f'{REPO}:{REPO / "tests"}')
    port = free_port()
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_port', str(port), str(REPO / 'tools' / 'precompute_primaps.py'), str(cfg),
         '--launcher', 'pytorch', '--cfg-options', 'custom_imports.imports=[mmuss,primaps_toys]'],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'rank 0 of 2 has 12 of 24 images, 0 done, takes 12.' in proc.stderr
    precompute_tool.main([str(cfg), '--out-dir', str(tmp_path / 'single')])
    pngs = sorted(p.name for p in (tmp_path / 'proposals').glob('*.png'))
    assert len(pngs) == 24
    for name in pngs:
        assert np.array_equal(np.asarray(Image.open(tmp_path / 'proposals' / name)),
                              np.asarray(Image.open(tmp_path / 'single' / name)))


def test_best_checkpoint_is_never_a_warm_up_evaluation(tmp_path, textures):
    """tools/train.py with BestAfterWarmupCheckpointHook: the best is an EM evaluation.

    No cached map holds a mask, so EM has no label to learn from: θ_R keeps the cluster-probe
    directions it starts from and θ_M's evaluations tie with the warm-up's. Plain
    ``save_best`` (rule 'greater') would keep the warm-up checkpoint of iteration 4.
    """
    cfg = write_config(tmp_path, textures, False, WARMUP + 8)
    precompute_tool.main([str(cfg)])
    for png in (tmp_path / 'proposals').glob('*.png'):
        Image.fromarray(np.full((32, 32), 255, np.uint8)).save(png)
    cfg.write_text(cfg.read_text().replace(
        'checkpoint=dict(interval=', 'checkpoint=dict(type="BestAfterWarmupCheckpointHook", '
        f'warmup={WARMUP}, save_best="cluster/mIoU", rule="greater", interval='))
    work = tmp_path / 'work'
    runner = train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options',
                              'experiment_name=best'])
    history = val_history(runner)  # evaluations at iterations 4 (warm-up), 8, 12
    assert len(history) == 3 and history[0] == history[1] == history[2], history
    assert sorted(p.name for p in work.glob('best_*.pth')) == ['best_cluster_mIoU_iter_8.pth']
