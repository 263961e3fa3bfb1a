"""The registered PriMaPs proposal generator used by the pre-compute tool and online heads."""
from typing import Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor

from .images import unnormalise_images
from .primaps import primaps_mask_ids

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class PriMaPsProposer:
    """Feature maps → PriMaPs mask-id maps (docs/methods/primaps_em.md eqs. 1–7).

    Wraps :func:`mmuss.models.utils.primaps.primaps_mask_ids` with its
    configuration. With ``crf`` set, the masks are refined by the package's
    dense CRF on the images (uint8 RGB, or normalised network inputs that are
    un-normalised with ``mean``/``std``).

    Args:
        threshold: Cosine threshold ``τ`` (0.4).
        coverage: Assigned fraction that ends the loop (0.95).
        gain: Binarising gain (10).
        crf: ``None`` or options of ``batched_dense_crf`` (``dict()`` for the
            reference parameters; ``num_workers`` for a process pool).
        mean: RGB mean (0–255) of the network input normalisation.
        std: RGB std (0–255) of the network input normalisation.
        pca: Solver options (``block``, ``krylov``, ``max_cycles``, ``tol``).
    """

    def __init__(self, threshold: float = 0.4, coverage: float = 0.95, gain: float = 10.0,
                 crf: Optional[dict] = None, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, pca: Optional[dict] = None) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f'PriMaPs threshold must be in (0, 1], got {threshold}.')
        if not 0 < coverage <= 1:
            raise ValueError(f'PriMaPs coverage must be in (0, 1], got {coverage}.')
        self.threshold = threshold
        self.coverage = coverage
        self.gain = gain
        self.crf = None if crf is None else dict(crf)
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.pca = dict(pca or {})

    def __call__(self, feats: Tensor, images: Optional[Tensor] = None,
                 size: Optional[Tuple[int, int]] = None,
                 names: Optional[Sequence[str]] = None) -> Tensor:
        """``B×D×h×w`` features (+ images) → ``B×H×W`` uint8 mask ids (255 = none).

        ``H×W`` is ``size``, else the images' size, else the feature size;
        ``names`` label the images in error messages.
        """
        with torch.no_grad():
            if images is not None:
                size = size or tuple(images.shape[-2:])
                if self.crf is not None and images.dtype != torch.uint8:
                    images = unnormalise_images(images, self.mean, self.std)
            return primaps_mask_ids(feats.detach().float(), size=size,
                                    images=images if self.crf is not None else None,
                                    crf=self.crf, threshold=self.threshold,
                                    coverage=self.coverage, gain=self.gain, names=names,
                                    **self.pca)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(threshold={self.threshold}, coverage={self.coverage}, '
                f'gain={self.gain}, crf={self.crf})')
