"""PrototypeInitHook: streamed PCA equals a one-shot SVD; k-means finds separated centres."""
import numpy as np
import pytest
import torch

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
