"""PrototypeInitHook: streamed PCA equals a one-shot SVD; k-means finds separated centres."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader

from mmuss.datasets.synthetic_textures import generate_synthetic_textures
from mmuss.engine.hooks import PrototypeInitHook


def codes_in_chunks(x: np.ndarray, chunks: int):
    """Rows of ``x`` as a stream of ``1×D×n×1`` codes."""
    for part in np.array_split(x, chunks):
        yield torch.from_numpy(part.T.copy())[None, :, :, None]


def test_streamed_pca_equals_svd_of_all_pixels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5]) + 4.0
    x = x @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    protos = PrototypeInitHook('pca', num_batches=4).fit(codes_in_chunks(x, 4), 3)
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    expected = vt[:3] * np.sign(vt[:3][np.arange(3), np.abs(vt[:3]).argmax(1)])[:, None]
    np.testing.assert_allclose(protos.numpy(), expected, atol=1e-10)


def test_kmeans_init_finds_separated_directions():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.eye(3)[i] + 0.05 * rng.normal(size=(100, 3)) for i in range(3)])
    protos = PrototypeInitHook('kmeans', num_batches=3, max_samples=150).fit(
        codes_in_chunks(rng.permutation(x), 3), 3)
    assert sorted((protos @ torch.eye(3, dtype=protos.dtype)).argmax(1).tolist()) == [0, 1, 2]


def test_bad_method_and_empty_stream_fail_clearly():
    with pytest.raises(ValueError, match="'pca' or 'kmeans'"):
        PrototypeInitHook('random')
    with pytest.raises(RuntimeError, match='no training batch'):
        PrototypeInitHook('pca').fit(iter([]), 2)


def test_before_train_leaves_global_random_state_untouched(tmp_path):
    """The hook's data sampling must not shift the training run's random draws."""
    generate_synthetic_textures(str(tmp_path), num_train=4, num_val=1, size=16)
    dataset = DATASETS.build(dict(
        type='BaseSegDataset', data_root=str(tmp_path), img_suffix='.png', seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        metainfo=dict(classes=tuple('abcdef')),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]))
    loader = DataLoader(dataset, batch_size=2, collate_fn=pseudo_collate)
    model = MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', size_divisor=4),
        backbone=dict(type='DinoVisionTransformer', patch_size=4, img_size=16,
                      arch=dict(embed_dims=8, num_layers=1, num_heads=2)),
        decode_head=dict(type='ClusterProbeHead', in_channels=8, num_classes=2)))
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    expected = random.random(), np.random.rand(), torch.rand(1)
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    PrototypeInitHook('kmeans', num_batches=2, max_samples=20).before_train(
        SimpleNamespace(iter=0, model=model, train_dataloader=loader))
    assert (random.random(), np.random.rand()) == expected[:2]
    assert torch.equal(torch.rand(1), expected[2])


@pytest.mark.parametrize('drop_last,sizes', [(True, [32, 32, 32]), (False, [32, 32, 32, 4])])
def test_sample_keeps_the_training_loaders_drop_last(drop_last, sizes):
    # 100 images in batches of 32; asking for 93 batches reads what the loader has
    loader = DataLoader(list(range(100)), batch_size=32, drop_last=drop_last)
    batches = list(PrototypeInitHook('pca', num_batches=93).sample_batches(loader))
    assert [len(b) for b in batches] == sizes
    assert len({int(i) for b in batches for i in b}) == sum(sizes)
