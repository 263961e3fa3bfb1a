"""Tiny image folders and configs for the own-images tests (API, infer tool, folder training)."""
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
NUM_CLUSTERS = 4


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f'mmuss_tool_{name}',
                                                  REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_images(folder: Path, sizes: Sequence[Tuple[int, int]], seed: int = 0,
                 suffix: str = '.png') -> list:
    """Random-block BGR images of the given ``(height, width)``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i, (h, w) in enumerate(sizes):
        blocks = rng.integers(0, 256, (max(h // 8, 1), max(w // 8, 1), 3), dtype=np.uint8)
        image = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST)
        path = folder / f'img{i}{suffix}'
        cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


PHOTOS = ('chelsea', 'coffee', 'rocket', 'astronaut')  # tests/data/photos (scikit-image's)


def write_photos(folder: Path, sizes: Sequence[Tuple[int, int]], suffix: str = '.jpg') -> list:
    """Real photos (scikit-image's samples) resized to ``(height, width)``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (h, w) in enumerate(sizes):
        name = PHOTOS[i % len(PHOTOS)]
        photo = cv2.imread(str(REPO / 'tests' / 'data' / 'photos' / f'{name}.jpg'))
        image = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        path = folder / f'{name}{i}{suffix}'
        cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


def write_tiny_config(tmp_path: Path, data_root: Path, val_root: Optional[Path] = None,
                      num_clusters: int = NUM_CLUSTERS, name: str = 'tiny_folder.py') -> Path:
    """A ClusterProbeHead model on a 1-block DINO ViT (dim 32, patch 4) over an image folder.

    ``val_root`` (mmseg ``img_dir/val`` + ``ann_dir/val`` layout, 6 classes) adds a
    labelled validation set scored by ``HungarianIoUMetric(prefix='cluster')``.
    """
    num_classes = num_clusters if val_root is None else 6
    lines = [
        f"_base_ = [{str(REPO / 'configs/_base_/datasets/image_folder.py')!r},",
        f"          {str(REPO / 'configs/_base_/default_runtime.py')!r}]",
        f'data_root = {str(data_root)!r}',
        'crop_size = (32, 32)',
        'model = dict(',
        "    type='FrozenBackboneSegmentor',",
        "    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],",
        '                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,',
        '                           seg_pad_val=255, size=crop_size),',
        "    backbone=dict(type='DinoVisionTransformer', patch_size=4, img_size=32,",
        '                  arch=dict(embed_dims=32, num_layers=1, num_heads=2)),',
        "    decode_head=dict(type='ClusterProbeHead', in_channels=32,",
        f'                     num_classes={num_classes}, num_clusters={num_clusters},',
        '                     linear_probe=False),',
        "    train_cfg=dict(), test_cfg=dict(mode='whole'))",
        "train_pipeline = [dict(type='LoadImageFromFile'),",
        "                  dict(type='RandomResize', scale=(512, 32), ratio_range=(1.0, 1.5),",
        '                       keep_ratio=True),',
        "                  dict(type='RandomCrop', crop_size=crop_size),",
        "                  dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]",
        "test_pipeline = [dict(type='LoadImageFromFile'),",
        "                 dict(type='Resize', scale=(512, 32), keep_ratio=True),",
        "                 dict(type='PackSegInputs')]",
        'train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,',
        '                        dataset=dict(data_root=data_root, pipeline=train_pipeline))',
        "optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-3))",
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=2)",
        'default_hooks = dict(',
        "    timer=dict(type='IterTimerHook'),",
        "    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),",
        "    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2),",
        "    visualization=dict(type='SegVisualizationHook'))",
        "custom_hooks = [dict(type='ClusterMatchingHook')]",
        "visualizer = dict(type='USSLocalVisualizer')",
    ]
    if val_root is None:
        lines += ['val_cfg = None', 'test_cfg = None']
    else:
        lines += [
            "val_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),",
            "                dict(type='PackSegInputs')]",
            'val_dataloader = dict(',
            "    batch_size=2, num_workers=0,",
            "    sampler=dict(type='DefaultSampler', shuffle=False),",
            f"    dataset=dict(type='ImageFolderDataset', data_root={str(val_root)!r},",
            "                 data_prefix=dict(img_path='img_dir/val',",
            "                                  seg_map_path='ann_dir/val'),",
            "                 metainfo=dict(classes=('grass', 'sky', 'brick', 'sand', 'water',",
            "                                        'stone')),",
            '                 pipeline=val_pipeline))',
            'test_dataloader = val_dataloader',
            "val_evaluator = dict(type='HungarianIoUMetric', prefix='cluster',",
            f'                     num_clusters={num_clusters})',
            'test_evaluator = val_evaluator',
            "val_cfg = dict(type='ValLoop')",
            "test_cfg = dict(type='TestLoop')",
        ]
    path = tmp_path / name
    path.write_text('\n'.join(lines) + '\n')
    return path
