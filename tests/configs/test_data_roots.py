"""--cfg-options data_root=X (proposal_root=..., knn_file under it) repoints every dataloader."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmuss.utils.cfg_options import merge_cfg_options

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def datasets(cfg):
    """(where, dataset dict) of every dataloader, wrappers and the PriMaPs pre-compute included."""
    loaders = [(key, cfg.get(key)) for key in LOADERS]
    loaders.append(('primaps_precompute', (cfg.get('primaps_precompute') or {}).get('dataloader')))
    for key, loader in loaders:
        node = (loader or {}).get('dataset')
        while node:
            yield key, node
            node = node.get('dataset')


def find(node, key):
    """Every value stored under ``key`` anywhere below ``node``."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield value
            yield from find(value, key)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from find(value, key)


@pytest.mark.parametrize('config', SHIPPED, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_one_data_root_option_repoints_every_dataloader(config):
    cfg = merge_cfg_options(Config.fromfile(str(config)), dict(data_root='/elsewhere'))
    roots = [(key, ds['data_root']) for key, ds in datasets(cfg) if 'data_root' in ds]
    assert roots, 'no dataloader has a data_root'
    assert all(root.startswith('/elsewhere') for _, root in roots), roots
    for knn_file in find(cfg._cfg_dict, 'knn_file'):
        assert knn_file.startswith('/elsewhere/'), knn_file


PRIMAPS = [p for p in SHIPPED if 'primaps_precompute' in Config.fromfile(str(p))]


@pytest.mark.parametrize('config', PRIMAPS, ids=lambda p: p.stem)
def test_precompute_output_is_the_training_proposal_root(config):
    for options in ({}, dict(proposal_root='/props')):
        cfg = merge_cfg_options(Config.fromfile(str(config)), options)
        used = set(find(cfg.train_dataloader, 'proposal_root'))
        assert used == {cfg.primaps_precompute.out_dir}
        if options:
            assert used == {'/props'}


def test_nested_options_still_win_over_the_variable(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("data_root = 'data/a'\n"
                    "train_dataloader = dict(dataset=dict(data_root=data_root))\n"
                    "val_dataloader = dict(dataset=dict(data_root=data_root, ann='data/a/x.txt'))\n"
                    "other = 'data/ab'\n")
    cfg = merge_cfg_options(Config.fromfile(str(path)), {
        'data_root': '/d', 'val_dataloader.dataset.data_root': '/v'})
    assert cfg.train_dataloader.dataset.data_root == '/d'
    assert cfg.val_dataloader.dataset.data_root == '/v'
    assert cfg.val_dataloader.dataset.ann == '/d/x.txt' and cfg.other == 'data/ab'


@pytest.mark.parametrize('config', ['baseline/baseline_dino-vit-s8_2k_cityscapes27-320.py',
                                    'primaps_em/primaps-em_dino-vit-s8_52e_cocostuff27-320.py'])
def test_one_crop_size_option_changes_every_resize_and_crop(config):
    cfg = merge_cfg_options(Config.fromfile(str(REPO / 'configs' / config)), dict(crop_size=224))
    pipelines = [cfg.test_pipeline, cfg.val_dataloader.dataset.pipeline,
                 cfg.train_dataloader.dataset.pipeline]
    sizes = list(find(pipelines, 'crop_size')) + list(find(pipelines, 'size'))
    assert len(sizes) >= 6 and set(sizes) == {224}
