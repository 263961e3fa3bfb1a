"""Fixtures: the shipped dataset configs' dataloaders on fake trees; the converter tools."""
import copy
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

REPO = osp.join(osp.dirname(__file__), '..', '..')
CONFIG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')


@pytest.fixture
def build_loader():
    """``build_loader(config, data_root, split='val', **dataset_overrides)`` → (loader, cfg)."""

    def build(config_name: str, data_root: str, split: str = 'val', **overrides):
        init_default_scope('mmseg')
        cfg = Config.fromfile(osp.join(CONFIG_DIR, config_name))
        loader = copy.deepcopy(cfg[f'{split}_dataloader'])
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
        if 'sampler' in loader and loader['sampler']['type'] == 'InfiniteSampler':
            loader['sampler'] = dict(type='DefaultSampler', shuffle=False)
        loader['dataset'].update(data_root=str(data_root), **overrides)
        return Runner.build_dataloader(loader), cfg

    return build


@pytest.fixture
def load_tool():
    """Import ``tools/dataset_converters/<name>.py`` as a module."""

    def load(name: str):
        path = osp.join(REPO, 'tools', 'dataset_converters', name + '.py')
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
