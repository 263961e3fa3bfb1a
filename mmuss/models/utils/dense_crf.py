"""Dense CRF refinement (pydensecrf), the one CRF of the package.

Reference parameters and unary construction of STEGO/HP/PriMaPs/MaskContrast
(docs/methods/baseline.md eq. 7, Q9): log-probabilities bilinearly
resized to the image (``align_corners=False``), softmax, unary
``-log(clip(P, 1e-5))``, Gaussian kernel ``sxy=1, compat=3``, bilateral kernel
``sxy=67, srgb=3, compat=4`` on the BGR image, 10 mean-field iterations.
"""
import atexit
import inspect
import multiprocessing
from functools import lru_cache
from multiprocessing.pool import Pool
from typing import Dict, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def _import_pydensecrf():
    try:
        import pydensecrf.densecrf as dcrf
        from pydensecrf.utils import unary_from_softmax
    except ImportError as exc:
        raise ImportError(
            'Dense CRF refinement needs pydensecrf: `pip install pydensecrf2` '
            '(or turn the CRF off: model.test_cfg.crf=False).') from exc
    return dcrf, unary_from_softmax


def resized_probs(log_probs: Tensor, size: tuple) -> Tensor:
    """``softmax(bilinear(log_probs))``: ``B×C×h×w`` scores → ``B×C×H×W`` probabilities."""
    logits = F.interpolate(log_probs.float(), size=size, mode='bilinear', align_corners=False)
    return logits.softmax(dim=1)


def crf_from_probs(image: np.ndarray, probs: np.ndarray, gaussian_sxy: float = 1,
                   gaussian_compat: float = 3, bilateral_sxy: float = 67,
                   bilateral_srgb: float = 3, bilateral_compat: float = 4,
                   num_iters: int = 10) -> np.ndarray:
    """Mean-field marginals ``Q`` of a fully connected CRF.

    ``E(x) = sum_i -log(max(P_i(x_i), 1e-5)) + sum_{i<j} mu(x_i, x_j) [
    w_g exp(-|p_i - p_j|^2 / 2 sxy_g^2) + w_b exp(-|p_i - p_j|^2 / 2 sxy_b^2
    - |I_i - I_j|^2 / 2 srgb^2)]`` with Potts ``mu`` and ``w_g, w_b`` the compats.

    Args:
        image: ``H×W×3`` uint8 RGB image (given to pydensecrf as BGR, as the
            references do).
        probs: ``C×H×W`` per-pixel class probabilities.

    Returns:
        ``C×H×W`` float32 marginals.
    """
    dcrf, unary_from_softmax = _import_pydensecrf()
    num_classes, height, width = probs.shape
    if image.shape != (height, width, 3) or image.dtype != np.uint8:
        raise ValueError(f'Expected a {height}x{width}x3 uint8 image for {num_classes}x{height}'
                         f'x{width} probabilities, got {image.dtype} {image.shape}.')
    crf = dcrf.DenseCRF2D(width, height, num_classes)
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs)))
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(sxy=bilateral_sxy, srgb=bilateral_srgb,
                             rgbim=np.ascontiguousarray(image[:, :, ::-1]),
                             compat=bilateral_compat)
    marginals = crf.inference(num_iters)
    return np.asarray(marginals, dtype=np.float32).reshape(num_classes, height, width)


CRF_DEFAULTS: Dict[str, float] = {
    name: param.default for name, param in inspect.signature(crf_from_probs).parameters.items()
    if param.default is not inspect.Parameter.empty}


def _crf_job(args: tuple) -> np.ndarray:
    image, log_probs, params = args
    return dense_crf(image, log_probs, **params)


def _single_threaded_worker() -> None:
    torch.set_num_threads(1)


@lru_cache(maxsize=None)
def _worker_pool(num_workers: int) -> Pool:
    """A persistent pool of ``num_workers`` spawned processes (safe with CUDA and threads)."""
    pool = multiprocessing.get_context('spawn').Pool(num_workers,
                                                     initializer=_single_threaded_worker)
    atexit.register(pool.terminate)
    return pool


def dense_crf(image: np.ndarray, log_probs: Union[np.ndarray, Tensor], **params) -> np.ndarray:
    """CRF marginals for one image.

    Args:
        image: ``H×W×3`` uint8 RGB image.
        log_probs: ``C×H'×W'`` log-probabilities (or logits), any resolution.
        **params: Overrides of :data:`CRF_DEFAULTS`.

    Returns:
        ``C×H×W`` float32 marginals at the image's resolution.
    """
    scores = torch.as_tensor(log_probs).detach().cpu()[None]
    probs = resized_probs(scores, tuple(image.shape[:2]))[0]
    return crf_from_probs(np.ascontiguousarray(image), probs.numpy(), **params)


def batched_dense_crf(images: Tensor, log_probs: Tensor, num_workers: int = 0,
                      **params) -> Tensor:
    """CRF marginals for a batch, optionally over a bounded process pool.

    Args:
        images: ``B×3×H×W`` uint8 RGB images.
        log_probs: ``B×C×h×w`` log-probabilities (or logits).
        num_workers: ``0`` runs in this process; ``n > 0`` uses a persistent pool
            of ``n`` spawned processes (created on first use, reused after).
        **params: Overrides of :data:`CRF_DEFAULTS` (``gaussian_sxy``,
            ``gaussian_compat``, ``bilateral_sxy``, ``bilateral_srgb``,
            ``bilateral_compat``, ``num_iters``).

    Returns:
        ``B×C×H×W`` float32 marginals on ``log_probs``' device.
    """
    unknown = set(params) - set(CRF_DEFAULTS)
    if unknown:
        raise TypeError(f'Unknown CRF options {sorted(unknown)}; '
                        f'valid ones are {sorted(CRF_DEFAULTS)} and num_workers.')
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f'images must be B×3×H×W uint8, got {images.dtype} {tuple(images.shape)}.')
    if log_probs.dim() != 4 or log_probs.shape[0] != images.shape[0]:
        raise ValueError(f'log_probs must be B×C×h×w with B={images.shape[0]}, '
                         f'got {tuple(log_probs.shape)}.')
    _import_pydensecrf()
    pixels = images.detach().cpu().permute(0, 2, 3, 1).contiguous().numpy()
    scores = log_probs.detach().cpu().float().numpy()
    jobs = [(pixels[i], scores[i], params) for i in range(len(pixels))]
    if num_workers > 0 and len(jobs) > 1:
        marginals = _worker_pool(num_workers).map(_crf_job, jobs)
    else:
        marginals = [_crf_job(job) for job in jobs]
    return torch.from_numpy(np.stack(marginals)).to(log_probs.device)
