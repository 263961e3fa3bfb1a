"""Pack a PriMaPs-EM sample: its mask ids, views and labels."""
from mmseg.registry import TRANSFORMS

from .pack_multi_view_seg_inputs import PackMultiViewSegInputs


@TRANSFORMS.register_module()
class PackPrimapsInputs(PackMultiViewSegInputs):
    """:class:`PackMultiViewSegInputs` packing the mask-id map ``proposal_key``.

    ``results[proposal_key]`` (``H×W``, from :class:`LoadPrimapsMasks`)
    becomes ``data_sample.<proposal_key>`` (``1×H×W`` int64), next to
    ``gt_sem_seg``; the student view is packed like every registered view.

    Args:
        proposal_key: Result key of the mask ids.
        **kwargs: See :class:`PackSegInputs`.
    """

    def __init__(self, proposal_key: str = 'gt_primaps', **kwargs) -> None:
        super().__init__(pixel_keys=(proposal_key, ), **kwargs)
