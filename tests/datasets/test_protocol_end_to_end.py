"""Runner.test on the shipped Cityscapes-27 config: 320×320 crops scored, flip and CRF on."""
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import MODELS
from PIL import Image

REPO = osp.join(osp.dirname(__file__), '..', '..')


@MODELS.register_module(force=True)
class ToyProtocolBackbone(nn.Module):
    """Stride-8 patchify conv, a stand-in for a frozen ViT."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 8, stride=8)

    def forward(self, x: torch.Tensor):
        return (self.patch(x), )


@pytest.mark.skipif(importlib.util.find_spec('pydensecrf') is None,
                    reason='pydensecrf2 is not installed')
def test_runner_scores_the_centre_crops(tmp_path):
    rng = np.random.default_rng(0)
    crops = []
    for name in ('aachen_000000_000019', 'bonn_000000_000019'):
        city = name.split('_')[0]
        for sub in ('leftImg8bit', 'gtFine'):
            os.makedirs(tmp_path / sub / 'val' / city)
        ids = rng.integers(0, 34, (16, 32), dtype=np.uint8)
        Image.fromarray(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)).save(
            tmp_path / 'leftImg8bit' / 'val' / city / f'{name}_leftImg8bit.png')
        Image.fromarray(ids).save(
            tmp_path / 'gtFine' / 'val' / city / f'{name}_gtFine_labelIds.png')
        # 16×32 → 320×640 (each pixel 20×20), centre crop = source columns 8..23
        crops.append(ids[:, 8:24].repeat(20, 0).repeat(20, 1))
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'cityscapes27.py'))
    cfg.merge_from_dict(dict(
        default_scope='mmseg', work_dir=str(tmp_path / 'work'), test_cfg=dict(type='TestLoop'),
        model=dict(
            type='FrozenBackboneSegmentor', data_preprocessor=dict(
                type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255),
            backbone=dict(type='ToyProtocolBackbone'),
            decode_head=dict(type='ClusterProbeHead', in_channels=8, num_classes=27),
            test_cfg=dict(mode='whole', flip=True, crf=dict(num_iters=2)))))
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator'):
        cfg.pop(key)
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False, batch_size=2)
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    with torch.no_grad():
        for param in runner.model.decode_head.parameters():
            param.zero_()  # every output uniform: the prediction is cluster/class 0 everywhere
    metrics = runner.test()
    labels = np.concatenate([c.reshape(-1).astype(int) for c in crops])
    labels = labels[labels >= 7] - 7
    counts = np.bincount(labels, minlength=27)
    # Hungarian: cluster 0 takes the most frequent class; linear (no matching): class 0
    assert metrics['cluster/aAcc'] == pytest.approx(
        round(100 * counts.max() / counts.sum(), 2))
    assert metrics['linear/aAcc'] == pytest.approx(round(100 * counts[0] / counts.sum(), 2))
