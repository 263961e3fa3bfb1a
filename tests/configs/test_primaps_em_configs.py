"""Every PriMaPs-EM config loads, and its head, pipelines and proposer build."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS, TRANSFORMS
from PIL import Image

GRID = {f'primaps-em_{b}_52e_{d}-{322 if "dinov2" in b else 320}'
        for b in ('dino-vit-s8', 'dino-vit-b8', 'dinov2-vit-s14', 'dinov2-vit-b14')
        for d in ('cityscapes27', 'cocostuff27', 'potsdam3')}
FOLDER = Path(__file__).resolve().parents[2] / 'configs' / 'primaps_em'
CONFIGS = sorted(FOLDER / f'{name}.py' for name in GRID)  # "+STEGO/HP" variants: elsewhere


def test_the_grid_is_complete():
    assert all(path.is_file() for path in CONFIGS)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(path))
    head = cfg.model.decode_head
    assert 'in_channels' not in head
    assert cfg.embed_dims == (768 if 'vit-b' in path.stem else 384)
    assert head.num_classes == (3 if 'potsdam' in path.stem else 27)
    assert MODELS.build(dict(head, in_channels=cfg.embed_dims)).view_names == ('img_student', )
    assert cfg.train_dataloader.batch_size == 32 and cfg.train_dataloader.drop_last
    crop = 322 if 'dinov2' in path.stem else 320
    assert cfg.crop_size == crop
    for step in cfg.train_dataloader.dataset.pipeline + cfg.test_pipeline:
        TRANSFORMS.build(step)
    MODELS.build(cfg.primaps_precompute.proposer)
    assert [h['type'] for h in cfg.custom_hooks] == ['PrototypeInitHook', 'PrimapsEMHook']


def test_training_geometry_matches_the_cached_maps(tmp_path):
    """Pre-compute and training pipelines give the same crop, so the PNG fits the image."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(CONFIGS[0]))
    image = np.random.default_rng(0).integers(0, 255, (400, 600, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / 'a.png')
    Image.fromarray(np.zeros((400, 600), np.uint8)).save(tmp_path / 'a_label.png')
    crop = cfg.crop_size
    (tmp_path / 'proposals').mkdir()
    Image.fromarray(np.full((crop, crop), 255, np.uint8)).save(tmp_path / 'proposals' / 'a.png')
    assert cfg.train_dataloader.dataset.pipeline[0] == cfg.geometry
    assert cfg.primaps_precompute.dataloader.dataset.pipeline[0] == cfg.geometry
    steps = [dict(s) for s in cfg.geometry.transforms if s['type'] != 'LabelLUT']
    steps.append(dict(type='LoadPrimapsMasks', proposal_root=str(tmp_path / 'proposals')))
    results = dict(img_path=str(tmp_path / 'a.png'), seg_map_path=str(tmp_path / 'a_label.png'),
                   reduce_zero_label=False, seg_fields=[])
    for step in steps:
        results = TRANSFORMS.build(step)(results)
    assert results['img'].shape[:2] == (crop, crop)
    assert results['gt_primaps'].shape == (crop, crop) and 'gt_primaps' in results['seg_fields']
