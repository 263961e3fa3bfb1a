"""Pack a sample with its PriMaPs mask ids and extra views."""
from typing import Sequence

import torch
from mmengine.structures import PixelData
from mmseg.registry import TRANSFORMS

from .pack_multi_view_seg_inputs import PackMultiViewSegInputs


@TRANSFORMS.register_module()
class PackPrimapsInputs(PackMultiViewSegInputs):
    """:class:`PackMultiViewSegInputs` that also packs the mask-id map.

    ``results[proposal_key]`` (``H×W``, from :class:`LoadPrimapsMasks`)
    becomes ``data_sample.<proposal_key>`` as ``PixelData`` of shape
    ``1×H×W`` (long), next to ``gt_sem_seg``.

    Args:
        proposal_key: Result key of the mask ids.
        view_keys: Extra image views (e.g. ``('img_student',)``); may be empty.
        **kwargs: See :class:`PackSegInputs`.
    """

    def __init__(self, proposal_key: str = 'gt_primaps',
                 view_keys: Sequence[str] = ('img_student', ), **kwargs) -> None:
        super().__init__(view_keys=view_keys, **kwargs)
        self.proposal_key = proposal_key

    def transform(self, results: dict) -> dict:
        if self.proposal_key not in results:
            raise KeyError(f'PackPrimapsInputs: {self.proposal_key!r} missing from the results; '
                           f'add LoadPrimapsMasks to the pipeline.')
        packed = super().transform(results)
        ids = torch.from_numpy(results[self.proposal_key].copy()).long()[None]
        packed['data_samples'].set_data({self.proposal_key: PixelData(data=ids)})
        return packed
