"""tools/precompute_knns.py: chunked top-k and the table it writes."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmuss.apis import offline_pass
from mmuss.apis.knn_mining import knn_table, pooled_descriptors
from mmuss.apis.offline_pass import strided_shard
from mmuss.utils.cfg_options import merge_cfg_options

from .conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'stego_tool_{name}',
                                                  REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


knn_tool = load_tool('precompute_knns')


def test_knn_table_ranks_by_cosine_in_any_chunking():
    # angles 0°, 10°, 55°, 90°, 180°: neighbours by angular distance
    angles = torch.tensor([0., 10., 55., 90., 180.]) * torch.pi / 180
    desc = torch.stack([angles.cos(), angles.sin()], dim=1)
    expected = [[0, 1, 2], [1, 0, 2], [2, 3, 1], [3, 2, 1], [4, 3, 2]]
    for chunk in (1, 2, 5, 100):
        assert knn_table(desc, desc, 3, chunk).tolist() == expected
    with pytest.raises(ValueError, match='6 neighbours among 5'):
        knn_table(desc, desc, 6)


def test_pooled_descriptors_are_unit_means():
    feats = torch.zeros(1, 2, 2, 2)
    feats[0, 0] = torch.tensor([[1., 3.], [0., 0.]])  # channel means: 1, 0.5
    feats[0, 1] = 0.5
    assert torch.allclose(pooled_descriptors(feats),
                          torch.tensor([[1., 0.5]]) / np.sqrt(1.25))


def test_strided_shards_cover_every_sample_once_and_gather_in_order(monkeypatch):
    shards = [list(strided_shard(10, r, 3)) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    rows = [torch.tensor(s, dtype=torch.float32)[:, None] for s in shards]
    monkeypatch.setattr(offline_pass, 'get_dist_info', lambda: (0, 3))
    monkeypatch.setattr(offline_pass, 'all_gather', lambda padded: [
        torch.cat([r, r.new_zeros(4 - len(r), 1)]) for r in rows])
    assert offline_pass.gather_strided(rows[0], 10)[:, 0].tolist() == list(range(10))


def test_on_gpu_the_process_group_gets_the_configured_timeout(monkeypatch):
    """precompute_knns started nccl without env_cfg.dist_cfg.timeout (torch's 30 min)."""
    calls = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(offline_pass, 'init_dist', lambda launcher, **kw: calls.append(kw))
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=7))))
    offline_pass.init_pass_distributed('pytorch', cfg)
    assert calls == [dict(backend='nccl', timeout=7.0)]


@pytest.mark.slow
def test_three_process_table_equals_single_process(tmp_path):
    """torchrun with 3 gloo processes on 4 samples writes the table of one process (contiguous
    shards of ceil(4/3) = 2 left the third rank without a sample)."""
    import os
    import subprocess
    import sys

    from mmuss.datasets.synthetic_textures import generate_synthetic_textures
    generate_synthetic_textures(str(tmp_path / 'data'), num_train=4, num_val=1, size=32, seed=5)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'''
_base_ = [{str(REPO / 'configs' / '_base_' / 'default_runtime.py')!r}]
model = dict(type='FrozenBackboneSegmentor',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='DinoVisionTransformer', patch_size=4,
                  arch=dict(embed_dims=32, num_layers=2, num_heads=2)),
    decode_head=dict(type='ClusterProbeHead', in_channels=32, num_classes=6))
train_dataloader = dict(dataset=dict(type='BaseSegDataset', data_root={str(tmp_path / 'data')!r},
    img_suffix='.png', seg_map_suffix='.png', metainfo=dict(classes=tuple('abcdef')),
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    pipeline=[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]))
''')
    common = ['--topk', '3', '--feature-dropout', '0', '--num-workers', '0', '--chunk-size', '3']
    single = knn_tool.main([str(cfg), '--out', str(tmp_path / 'single.npz'), *common])
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '3',
                '--master_port', str(free_port())]
    subprocess.run([*torchrun, str(REPO / 'tools' / 'precompute_knns.py'), str(cfg), '--out',
                    str(tmp_path / 'dist.npz'), '--launcher', 'pytorch', *common],
                   check=True, cwd=tmp_path, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    a, b = np.load(single), np.load(tmp_path / 'dist.npz')
    assert np.array_equal(a['nns'], b['nns']) and np.array_equal(a['ids'], b['ids'])
    assert a['nns'].shape == (4, 3) and (a['nns'][:, 0] == np.arange(4)).all()


STEGO = sorted((REPO / 'configs' / 'stego').glob('*.py'))


@pytest.mark.parametrize('config', STEGO, ids=lambda p: p.stem)
def test_default_output_is_the_table_the_config_reads(config):
    """One name: the tool writes the knn_file that KNNPairDataset reads (it wrote
    nns_<config name>_train.npz, which no config read)."""
    cfg = Config.fromfile(str(config))
    reads = cfg.train_dataloader.dataset.knn_file
    assert knn_tool.default_out(cfg, str(config), 'train') == reads
    moved = merge_cfg_options(cfg, dict(data_root='/d'))
    assert knn_tool.default_out(moved, str(config), 'train') == '/d' + reads[reads.index('/nns/'):]
