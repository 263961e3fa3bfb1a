"""Gaussian blur with a random σ, applied with a probability (torchvision's GaussianBlur rule)."""
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur ``img`` with a ``k×k`` Gaussian of σ ~ U[σ_min, σ_max], with probability ``prob``.

    HP's photometric view uses ``RandomApply([GaussianBlur(5, (0.1, 2))], p=0.5)``.
    Border handling is OpenCV's reflect-101 (torchvision reflects as well).

    Args:
        kernel_size: Odd kernel side ``k``.
        sigma: ``(σ_min, σ_max)``.
        prob: Probability of blurring.
    """

    def __init__(self, kernel_size: int = 5, sigma: Sequence[float] = (0.1, 2.0),
                 prob: float = 0.5) -> None:
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be a positive odd number, got {kernel_size}.')
        if not 0 < sigma[0] <= sigma[1]:
            raise ValueError(f'sigma must satisfy 0 < min <= max, got {sigma}.')
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}.')
        self.kernel_size = kernel_size
        self.sigma = tuple(sigma)
        self.prob = prob

    @cache_randomness
    def draw_sigma(self) -> Optional[float]:
        """σ for this call, or ``None`` when the blur is skipped."""
        if np.random.rand() >= self.prob:
            return None
        return float(np.random.uniform(*self.sigma))

    def transform(self, results: dict) -> dict:
        sigma = self.draw_sigma()
        if sigma is not None:
            k = self.kernel_size
            results['img'] = cv2.GaussianBlur(results['img'], (k, k), sigmaX=sigma, sigmaY=sigma)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma}, '
                f'prob={self.prob})')
