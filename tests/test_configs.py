"""Every shipped config parses, names registered components and builds its model."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS

CONFIGS = sorted(p for p in (Path(__file__).resolve().parents[1] / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)


def strip_pretrained(cfg: dict) -> None:
    """Drop downloads: no test may fetch weights."""
    for key, value in list(cfg.items()):
        if key == 'init_cfg' and isinstance(value, dict) and value.get('type') == 'Pretrained':
            cfg[key] = None
        elif isinstance(value, dict):
            strip_pretrained(value)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmseg'
    assert 'mmuss' in cfg.custom_imports['imports']
    strip_pretrained(cfg.model)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    check_size_owner(cfg, model)
    check_width(cfg, model)
    head = getattr(model, 'decode_head', None)
    classes = dataset_classes(cfg)
    if head is not None and classes is not None:
        assert head.num_classes == len(classes), (head.num_classes, classes)


def dataset_classes(cfg: Config):
    """Class names of the config's validation dataset, if it has labels."""
    loader = cfg.get('val_dataloader')
    if not loader:
        return None
    dataset = loader['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    meta = dataset.get('metainfo') or getattr(DATASETS.get(dataset['type']), 'METAINFO', {})
    return meta.get('classes')


def check_size_owner(cfg: Config, model: torch.nn.Module) -> None:
    """One owner for the input size: the pipeline's crop (``crop_size``) sets it, the backbone's
    patch (output stride 8 for the dilated ResNet) is the built preprocessor's ``size_divisor``.

    mmseg's ``SegDataPreProcessor`` refuses ``size`` and ``size_divisor`` together at the first
    training batch.
    """
    assert cfg.model.data_preprocessor.get('size') is None, 'set crop_size instead of size'
    backbone = model.backbone
    backbone = getattr(backbone, 'backbone', backbone)  # FrozenCodeBackbone
    pre = model.data_preprocessor
    assert pre.size is None
    assert pre.size_divisor == getattr(backbone, 'patch_size', 8), pre.size_divisor


def check_width(cfg: Config, model: torch.nn.Module) -> None:
    """The head reads the backbone's output: a FrozenCodeBackbone's code (the width its config
    states), else the ViT tokens (``embed_dims``) or the ResNet's last stage (``feat_dim``)."""
    backbone = model.backbone
    if hasattr(backbone, 'head'):  # FrozenCodeBackbone: its head reads the inner backbone
        assert backbone.head.in_channels == backbone.backbone.embed_dims
        width = cfg.model.backbone.head.channels
    else:
        width = getattr(backbone, 'embed_dims', getattr(backbone, 'feat_dim', None))
    assert model.decode_head.in_channels == width, (model.decode_head.in_channels, width)
