"""The KNN table: atomic, self-describing, rank-count independent, read errors named."""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ..image_folder_toys import load_tool
from ..tools.conftest import free_port
from .cache_toys import REPO, write_knn_config
from mmuss.datasets import KNNPairDataset
from mmuss.datasets.synthetic_textures import generate_synthetic_textures

knn_tool = load_tool('precompute_knns')
COMMON = ['--topk', '6', '--num-workers', '0', '--batch-size', '4']


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('knn_cache')
    generate_synthetic_textures(str(root / 'data'), num_train=15, num_val=1, size=32, seed=4)
    return root, write_knn_config(root / 'cfg.py', root / 'data')


def test_two_ranks_give_the_table_of_one_with_feature_dropout(setup):
    root, cfg = setup
    single = knn_tool.main([str(cfg), '--out', str(root / 'single.npz'), *COMMON])
    port = free_port()
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_port', str(port), str(REPO / 'tools' / 'precompute_knns.py'), str(cfg),
         '--out', str(root / 'dist.npz'), '--launcher', 'pytorch', *COMMON],
        cwd=root, env={**os.environ, 'OMP_NUM_THREADS': '1'}, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [  # one result line; logs and progress go to stderr
        f'Saved (15, 6) nearest neighbours of 15 train samples to {root / "dist.npz"}']
    assert 'KNN descriptors' in proc.stderr
    a, b = np.load(single), np.load(root / 'dist.npz')
    assert np.array_equal(a['nns'], b['nns']) and np.array_equal(a['ids'], b['ids'])
    manifest = json.loads(str(a['manifest']))
    assert manifest['tool'] == 'precompute_knns' and manifest['settings']['feature_dropout'] == 0.1
    assert manifest['checkpoint_sha256'] is None and manifest['seed'] == 0


def test_an_interrupted_write_leaves_the_old_table_intact(setup, monkeypatch):
    root, cfg = setup
    out = root / 'table.npz'
    knn_tool.main([str(cfg), '--out', str(out), *COMMON])
    before = hashlib.sha256(out.read_bytes()).hexdigest()

    def killed_savez(file, **arrays):
        with open(file, 'wb') as handle:
            handle.write(b'PK\x03\x04 half a zip')
        raise KeyboardInterrupt

    monkeypatch.setattr(np, 'savez', killed_savez)
    with pytest.raises(KeyboardInterrupt):
        knn_tool.main([str(cfg), '--out', str(out), *COMMON])
    assert hashlib.sha256(out.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in root.glob('table.npz*')) == ['table.npz']


def test_corrupt_table_read_error_names_the_file_and_the_tool(setup, tmp_path):
    root, _ = setup
    bad = tmp_path / 'nns.npz'
    bad.write_bytes(b'PK\x03\x04 half a zip')
    dataset = dict(type='BaseSegDataset', data_root=str(root / 'data'), img_suffix='.png',
                   seg_map_suffix='.png', metainfo=dict(classes=tuple('abcdef')),
                   data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                   pipeline=[])
    with pytest.raises(ValueError, match=r'KNN file .*nns\.npz is unreadable.*'
                       r'tools/precompute_knns.py'):
        KNNPairDataset(dataset, str(bad))
