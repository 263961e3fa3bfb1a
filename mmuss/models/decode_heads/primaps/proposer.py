"""The registered PriMaPs proposal generator used by the pre-compute tool and online heads."""
from typing import Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor

from .masks import primaps_mask_ids


@MODELS.register_module()
class PrimapsProposer:
    """Feature maps → PriMaPs mask-id maps (docs/methods/primaps_em.md eqs. 1–7).

    Wraps :func:`mmuss.models.decode_heads.primaps.masks.primaps_mask_ids` with its
    configuration. With ``crf`` set, the masks are refined by the package's
    dense CRF on the images (uint8 RGB: :meth:`PixelNormaliser.unnormalise` of
    the network inputs).

    Args:
        threshold: Cosine threshold ``τ`` (0.4).
        coverage: Assigned fraction that ends the loop (0.95).
        gain: Binarising gain (10).
        crf: ``None`` or options of ``batched_dense_crf`` (``dict()`` for the
            reference parameters; ``num_workers`` for a process pool).
        pca: Solver options (``block``, ``krylov``, ``max_cycles``, ``tol``).
    """

    def __init__(self, threshold: float = 0.4, coverage: float = 0.95, gain: float = 10.0,
                 crf: Optional[dict] = None, pca: Optional[dict] = None) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f'PriMaPs threshold must be in (0, 1], got {threshold}.')
        if not 0 < coverage <= 1:
            raise ValueError(f'PriMaPs coverage must be in (0, 1], got {coverage}.')
        self.threshold = threshold
        self.coverage = coverage
        self.gain = gain
        self.crf = None if crf is None else dict(crf)
        self.pca = dict(pca or {})

    def __call__(self, feats: Tensor, images: Optional[Tensor] = None,
                 size: Optional[Tuple[int, int]] = None,
                 names: Optional[Sequence[str]] = None) -> Tensor:
        """``B×D×h×w`` features (+ uint8 RGB images) → ``B×H×W`` uint8 mask ids (255 = none).

        ``H×W`` is ``size``, else the images' size, else the feature size;
        ``names`` label the images in error messages.
        """
        if images is not None and images.dtype != torch.uint8:
            raise TypeError(f'{type(self).__name__} takes uint8 RGB images (got {images.dtype}); '
                            f'PixelNormaliser.unnormalise converts network inputs.')
        with torch.no_grad():
            if images is not None:
                size = size or tuple(images.shape[-2:])
            return primaps_mask_ids(feats.detach().float(), size=size,
                                    images=images if self.crf is not None else None,
                                    crf=self.crf, threshold=self.threshold,
                                    coverage=self.coverage, gain=self.gain, names=names,
                                    **self.pca)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(threshold={self.threshold}, coverage={self.coverage}, '
                f'gain={self.gain}, crf={self.crf})')
