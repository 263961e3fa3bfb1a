"""MaskContrast end to end through tools/train.py on a tiny VOC-like dataset with saliency."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.runner import CheckpointLoader

from .conftest import REPO, load_tool

train_tool = load_tool('train')
test_tool = load_tool('test')
retrieval_tool = load_tool('maskcontrast_retrieval')
CONFIG = REPO / 'configs' / 'maskcontrast' / 'maskcontrast-sup-sal_resnet50-d8_40e_voc-512.py'
COLOURS = {1: (40, 40, 220), 2: (220, 60, 30)}


@pytest.fixture(scope='module')
def voc_like(tmp_path_factory) -> Path:
    """12 train and 6 val 40×48 images: one coloured rectangle of class 1 or 2 each."""
    root = tmp_path_factory.mktemp('voc_saliency')
    for sub in ('JPEGImages', 'SegmentationClass', 'saliency_supervised_model',
                'ImageSets/Segmentation'):
        (root / sub).mkdir(parents=True)
    rng = np.random.RandomState(0)
    ids = [f'{i:04d}' for i in range(18)]
    for i, name in enumerate(ids):
        cls = 1 + i % 2
        img = rng.randint(90, 140, (40, 48, 3)).astype(np.uint8)
        label = np.zeros((40, 48), np.uint8)
        top, left = rng.randint(2, 14), rng.randint(2, 20)
        label[top:top + 20, left:left + 22] = cls
        img[label > 0] = COLOURS[cls]
        cv2.imwrite(str(root / 'JPEGImages' / f'{name}.jpg'), img)
        cv2.imwrite(str(root / 'SegmentationClass' / f'{name}.png'), label)
        cv2.imwrite(str(root / 'saliency_supervised_model' / f'{name}.png'),
                    (label > 0).astype(np.uint8) * 255)
    sets = root / 'ImageSets' / 'Segmentation'
    (sets / 'trainaug_saliency.txt').write_text('\n'.join(ids[:12]) + '\n')
    (sets / 'val.txt').write_text('\n'.join(ids[12:]) + '\n')
    return root


def state_dict(path: Path) -> dict:
    return CheckpointLoader.load_checkpoint(str(path), map_location='cpu')['state_dict']


def tiny_config(tmp_path: Path, data_root: Path) -> Path:
    """The supervised-saliency VOC config with a tiny ResNet-18, 32×32 crops, 4 iterations."""
    text = f'''
_base_ = [{str(CONFIG)!r}]
data_root = {str(data_root)!r}
model = dict(
    backbone=dict(depth=18, stem_channels=8, base_channels=8, frozen_stages=1, init_cfg=None),
    decode_head=dict(in_channels=64, channels=16, embed_dims=8, dilations=(1, 2, 3)),
    queue_size=4,
    # after 4 iterations from PyTorch's default head init no bank image has a saliency logit
    # above the reference's 0.5, which would leave the retrieval bank empty
    saliency_threshold=0.0)
view_pipeline = [
    dict(type='SegRandomResizedCrop', crop_size=32, scale=(0.2, 1.0)),
    dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadSaliencyMask', saliency_dir='saliency_supervised_model'),
        dict(type='MaskContrastViews', view_pipeline=view_pipeline),
        dict(type='PackMultiViewSegInputs', pixel_keys=['gt_saliency', 'gt_key_saliency']),
    ]))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False, interpolation='bicubic'),
        dict(type='LoadAnnotations'),
        dict(type='LabelLUT', mapping='voc21', unmapped='error'),
        dict(type='PackSegInputs'),
    ]))
test_dataloader = val_dataloader
val_evaluator = dict(num_clusters=2, num_classes=3, num_seeds=2, pca_dims=4)
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=4)
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=4, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval=2, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
'''
    path = tmp_path / 'tiny_maskcontrast.py'
    path.write_text(text)
    return path


def test_train_validates_and_resume_reproduces_uninterrupted_run(tmp_path, voc_like):
    cfg = tiny_config(tmp_path, voc_like)
    full = tmp_path / 'full'
    runner = train_tool.main([str(cfg), '--work-dir', str(full),
                              '--cfg-options', 'experiment_name=full'])
    assert runner.iter == 4
    miou = runner.message_hub.get_scalar('val/kmeans/mIoU').current()
    assert 0.0 <= miou <= 100.0
    end = state_dict(full / 'iter_4.pth')
    start_queue = state_dict(full / 'iter_2.pth')['queue']
    assert int(end['queue_ptr']) == 0 and not torch.equal(end['queue'], start_queue)
    assert all(torch.isfinite(v).all() for v in end.values() if v.is_floating_point())

    resumed = tmp_path / 'resumed'
    train_tool.main([str(cfg), '--work-dir', str(resumed), '--resume', str(full / 'iter_2.pth'),
                     '--cfg-options', 'experiment_name=resumed'])
    again = state_dict(resumed / 'iter_4.pth')
    assert again.keys() == end.keys()
    for key, value in end.items():
        assert torch.equal(value, again[key]), key

    metrics = test_tool.main([str(cfg), str(full / 'iter_4.pth'), '--work-dir',
                              str(tmp_path / 'test'), '--cfg-options', 'experiment_name=test'])
    assert metrics['kmeans/mIoU'] == miou

    retrieval = retrieval_tool.main([str(cfg), str(full / 'iter_4.pth'), '--bank-split',
                                     'ImageSets/Segmentation/trainaug_saliency.txt'])
    assert retrieval['bank_images'] == 12 and retrieval['query_images'] == 6
    assert 0.0 <= retrieval['mIoU_21'] <= 100.0 and 0.0 <= retrieval['mIoU_7'] <= 100.0
