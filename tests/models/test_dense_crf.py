"""The package's dense CRF: reference unary, edge snapping, batching, missing pydensecrf."""
import importlib.util
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmuss.models.utils.dense_crf import batched_dense_crf, dense_crf

needs_pydensecrf = pytest.mark.skipif(importlib.util.find_spec('pydensecrf') is None,
                                      reason='pydensecrf2 is not installed')


def two_colour_image(size: int = 32, edge: int = 16) -> np.ndarray:
    """Dark left part, bright right part; the colour edge lies between x=edge-1 and x=edge."""
    image = np.full((size, size, 3), 30, np.uint8)
    image[:, edge:] = (220, 200, 180)
    return image


def blurred_log_probs(size: int = 32, boundary: float = 11.5, width: float = 2.0):
    """Two-class log-probabilities whose soft boundary sits at ``boundary``, not at the edge."""
    x = torch.arange(size, dtype=torch.float32)
    right = torch.sigmoid((x - boundary) / width).expand(size, size)
    return torch.stack([1 - right, right]).log()


@needs_pydensecrf
def test_crf_moves_labels_to_colour_edges():
    image, log_probs = two_colour_image(), blurred_log_probs()
    before = log_probs.argmax(0).numpy()
    assert (before[:, 12:16] == 1).all()  # the unary puts the boundary at x=11.5
    after = dense_crf(image, log_probs).argmax(0)
    expected = np.zeros((32, 32), int)
    expected[:, 16:] = 1
    np.testing.assert_array_equal(after, expected)


@needs_pydensecrf
def test_without_pairwise_terms_marginals_are_the_clipped_unary():
    """compat 0 switches both kernels off: Q = softmax(-U) = clip(P, 1e-5) / sum."""
    torch.manual_seed(0)
    log_probs = torch.randn(1, 3, 4, 5) * 6
    image = torch.randint(0, 256, (1, 3, 8, 10), dtype=torch.uint8)
    q = batched_dense_crf(image, log_probs, gaussian_compat=0, bilateral_compat=0)
    probs = F.interpolate(log_probs, size=(8, 10), mode='bilinear',
                          align_corners=False).softmax(1).clamp_min(1e-5)
    torch.testing.assert_close(q, probs / probs.sum(1, keepdim=True), atol=1e-5, rtol=1e-4)


@needs_pydensecrf
def test_batched_matches_single_and_marginals_sum_to_one():
    torch.manual_seed(1)
    images = torch.randint(0, 256, (2, 3, 12, 16), dtype=torch.uint8)
    log_probs = torch.randn(2, 4, 6, 8).log_softmax(1)
    q = batched_dense_crf(images, log_probs)
    assert q.shape == (2, 4, 12, 16) and q.dtype == torch.float32
    torch.testing.assert_close(q.sum(1), torch.ones(2, 12, 16), atol=1e-4, rtol=0)
    for i in range(2):
        single = dense_crf(images[i].permute(1, 2, 0).numpy(), log_probs[i])
        np.testing.assert_array_equal(q[i].numpy(), single)


def test_bad_arguments_are_named():
    images = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    with pytest.raises(TypeError, match='bilateral_sigma'):
        batched_dense_crf(images, torch.zeros(1, 2, 4, 4), bilateral_sigma=3)
    with pytest.raises(ValueError, match='uint8'):
        batched_dense_crf(images.float(), torch.zeros(1, 2, 4, 4))


def test_missing_pydensecrf_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)
    with pytest.raises(ImportError, match='pip install pydensecrf2'):
        batched_dense_crf(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, 2, 4, 4))


@pytest.mark.slow
@needs_pydensecrf
def test_worker_pool_gives_the_in_process_result():
    torch.manual_seed(2)
    images = torch.randint(0, 256, (3, 3, 10, 14), dtype=torch.uint8)
    log_probs = torch.randn(3, 5, 5, 7).log_softmax(1)
    torch.testing.assert_close(batched_dense_crf(images, log_probs, num_workers=2),
                               batched_dense_crf(images, log_probs), rtol=0, atol=0)
