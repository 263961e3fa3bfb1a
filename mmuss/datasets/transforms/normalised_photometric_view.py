"""A photometric view computed on the normalised image, as HP and PriMaPs-EM do."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from .pack_multi_view_seg_inputs import add_view

GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def to_gray(img: np.ndarray) -> np.ndarray:
    """``0.2989·R + 0.587·G + 0.114·B`` of a ``3×H×W`` RGB array → ``1×H×W`` (no clamp)."""
    r, g, b = img
    return (GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b)[None]


def blend(img: np.ndarray, other, ratio: float) -> np.ndarray:
    """``clamp(ratio·img + (1 − ratio)·other, 0, 1)`` (torchvision's float ``_blend``)."""
    return np.clip(ratio * img + (1.0 - ratio) * other, 0.0, 1.0).astype(np.float32)


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """``clamp(f·x, 0, 1)``."""
    return blend(img, 0.0, factor)


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """``clamp(f·x + (1 − f)·mean(gray(x)), 0, 1)``."""
    return blend(img, to_gray(img).mean(), factor)


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    """``clamp(f·x + (1 − f)·gray(x), 0, 1)``."""
    return blend(img, to_gray(img), factor)


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    """torchvision's ``_rgb2hsv`` on a ``3×H×W`` float array (values need not be in [0, 1])."""
    r, g, b = img
    maxc, minc = img.max(axis=0), img.min(axis=0)
    same = maxc == minc
    spread = maxc - minc
    sat = spread / np.where(same, 1.0, maxc)
    spread = np.where(same, 1.0, spread)
    rc, gc, bc = (maxc - r) / spread, (maxc - g) / spread, (maxc - b) / spread
    hue = ((maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
           + ((maxc != g) & (maxc != r)) * (4.0 + gc - rc))
    return np.stack([np.fmod(hue / 6.0 + 1.0, 1.0), sat, maxc]).astype(np.float32)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """torchvision's ``_hsv2rgb``: sector ``i = ⌊6h⌋ mod 6``, ``p, q, t`` clamped to [0, 1]."""
    h, s, v = hsv
    sector = np.floor(h * 6.0)
    frac = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * frac), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - frac)), 0.0, 1.0)
    return np.stack([np.choose(sector, [v, q, p, p, t, v]), np.choose(sector, [t, v, v, q, p, p]),
                     np.choose(sector, [p, p, t, v, v, q])]).astype(np.float32)


def adjust_hue(img: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue by ``shift`` turns: ``h ← (h + shift) mod 1``."""
    hsv = rgb_to_hsv(img)
    hsv[0] = np.mod(hsv[0] + shift, 1.0)
    return hsv_to_rgb(hsv)


def gaussian_blur(img: np.ndarray, kernel_size: int, sigma: float) -> np.ndarray:
    """Separable Gaussian blur per channel, reflect-101 borders (torchvision's ``reflect``)."""
    return np.stack([cv2.GaussianBlur(c, (kernel_size, kernel_size), sigmaX=sigma, sigmaY=sigma,
                                      borderType=cv2.BORDER_REFLECT_101) for c in img])


@TRANSFORMS.register_module()
class NormalisedPhotometricView(BaseTransform):
    """A photometric view computed on the *normalised* image, clamped as torchvision does.

    HP and PriMaPs-EM normalise first (ImageNet mean/std) and then apply
    torchvision's tensor ColorJitter (brightness/contrast/saturation/hue in a
    random order), Grayscale and GaussianBlur, whose float path clamps the
    blends to [0, 1]: every negative normalised value a jitter touches becomes
    0. This transform reproduces that: it normalises the uint8 image, applies
    the steps named in ``order`` (:func:`adjust_brightness` …
    :func:`gaussian_blur`), and maps the result back to raw pixel scale as a
    float array, so the model's data preprocessor recovers exactly the
    augmented normalised tensor. Pack it with :class:`PackMultiViewSegInputs`.

    Recipes (docs/methods/hp.md Q10, docs/methods/primaps_em.md Q1):

    - HP: ``order=('jitter', 'grayscale', 'blur')``, jitter always,
      grayscale p=0.2, 5×5 blur p=0.5 (the defaults);
    - PriMaPs-EM: ``order=('blur', 'jitter', 'grayscale')``, 21×21 blur
      always, then with ``jitter_or_grayscale=0.5`` the jitter step (fires
      with ``jitter_prob=0.3``) else the grayscale step (fires with
      ``grayscale_prob=0.1``).

    Args:
        mean: Normalisation mean of [0, 1] RGB values.
        std: Normalisation std.
        brightness: Jitter amount (factor ~ U[1 − x, 1 + x]).
        contrast: Jitter amount.
        saturation: Jitter amount.
        hue: Hue shift range ``[−h, h]`` (turns).
        jitter_prob: Probability of the ColorJitter step.
        grayscale_prob: Probability of the grayscale step.
        blur_prob: Probability of the blur step.
        blur_kernel: Blur kernel side.
        blur_sigma: Range of the blur σ.
        order: The steps ``'jitter'``, ``'grayscale'``, ``'blur'`` in the
            order they run.
        jitter_or_grayscale: ``None``: the jitter and grayscale steps are
            independent; ``p``: only one of them is taken, the jitter step
            with probability ``p`` (then each still fires with its own
            probability).
        key: Result key of the view.
        bgr: Whether ``img`` is BGR (mmcv's default) rather than RGB.
    """

    STEPS = ('jitter', 'grayscale', 'blur')

    def __init__(self, mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225), brightness: float = 0.3,
                 contrast: float = 0.3, saturation: float = 0.3, hue: float = 0.1,
                 jitter_prob: float = 1.0, grayscale_prob: float = 0.2, blur_prob: float = 0.5,
                 blur_kernel: int = 5, blur_sigma: Tuple[float, float] = (0.1, 2.0),
                 order: Sequence[str] = ('jitter', 'grayscale', 'blur'),
                 jitter_or_grayscale: Optional[float] = None, key: str = 'img_aug',
                 bgr: bool = True) -> None:
        if not 0 <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}.')
        if sorted(order) != sorted(self.STEPS):
            raise ValueError(f'order must list each of {self.STEPS} once, got {tuple(order)}.')
        self.mean = np.asarray(mean, np.float32)[:, None, None]
        self.std = np.asarray(std, np.float32)[:, None, None]
        self.ranges = [(max(0.0, 1 - x), 1 + x) if x > 0 else None
                       for x in (brightness, contrast, saturation)]
        self.hue = hue
        self.jitter_prob = jitter_prob
        self.grayscale_prob = grayscale_prob
        self.blur_prob = blur_prob
        self.blur_kernel = blur_kernel
        self.blur_sigma = tuple(blur_sigma)
        self.order = tuple(order)
        self.jitter_or_grayscale = jitter_or_grayscale
        self.key = key
        self.bgr = bgr

    def jitter(self, img: np.ndarray) -> np.ndarray:
        """ColorJitter in a random order of the four operations (disabled ones skipped)."""
        ops = (adjust_brightness, adjust_contrast, adjust_saturation)
        for index in np.random.permutation(4):
            if index < 3 and self.ranges[index] is not None:
                img = ops[index](img, np.random.uniform(*self.ranges[index]))
            elif index == 3 and self.hue > 0:
                img = adjust_hue(img, np.random.uniform(-self.hue, self.hue))
        return img

    def augment(self, img: np.ndarray) -> np.ndarray:
        """The steps of ``order`` on a normalised ``3×H×W`` RGB array."""
        take = dict(jitter=True, grayscale=True, blur=True)
        if self.jitter_or_grayscale is not None:
            take['jitter'] = bool(np.random.rand() < self.jitter_or_grayscale)
            take['grayscale'] = not take['jitter']
        for step in self.order:
            if not take[step]:
                continue
            if step == 'jitter' and (self.jitter_prob >= 1 or np.random.rand() < self.jitter_prob):
                img = self.jitter(img)
            elif step == 'grayscale' and np.random.rand() < self.grayscale_prob:
                img = np.repeat(to_gray(img), 3, axis=0)
            elif step == 'blur' and np.random.rand() < self.blur_prob:
                img = gaussian_blur(img, self.blur_kernel, np.random.uniform(*self.blur_sigma))
        return img

    def transform(self, results: dict) -> dict:
        rgb = results['img'][..., ::-1] if self.bgr else results['img']
        img = (rgb.transpose(2, 0, 1).astype(np.float32) / 255.0 - self.mean) / self.std
        img = self.augment(img)
        raw = ((img * self.std + self.mean) * 255.0).transpose(1, 2, 0)
        add_view(results, self.key,
                 np.ascontiguousarray(raw[..., ::-1] if self.bgr else raw, dtype=np.float32))
        return results
