"""Pack MaskContrast's query view as the input and its key view into the data sample."""
from mmseg.registry import TRANSFORMS

from .pack_multi_view_seg_inputs import PackMultiViewSegInputs


@TRANSFORMS.register_module()
class PackMaskContrastInputs(PackMultiViewSegInputs):
    """:class:`PackMultiViewSegInputs` packing MaskContrast's two saliency masks.

    ``inputs`` is the query view; the data sample additionally holds the
    registered view ``key_img`` (raw ``3×H×W`` key view, normalised in the
    model like the input), ``gt_saliency`` and ``gt_key_saliency``
    (``1×H×W`` 0/1 masks), all made by :class:`MaskContrastViews`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(pixel_keys=('gt_saliency', 'gt_key_saliency'), **kwargs)
