"""mmseg's visualization hook, drawing on the image each prediction belongs to."""
import os.path as osp
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine import fileio
from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample
from torch import Tensor

# The sample fields the visualiser draws: all that is gathered from other ranks.
DRAWN_FIELDS = ('pred_sem_seg', 'gt_sem_seg')


def evaluated_image(disk_image: np.ndarray, pipeline_input: Optional[Tensor],
                    size: tuple) -> np.ndarray:
    """The RGB ``H×W×3`` image a ``size``-shaped prediction belongs to.

    The file read from disk when it has the prediction's size (test pipelines
    that resize, then restore ``ori_shape``); else the test pipeline's output
    image (e.g. a centre crop scored as the original); else the file resized
    to the prediction's size.

    Args:
        disk_image: RGB image read from ``img_path``.
        pipeline_input: The pipeline's ``C×H×W`` BGR uint8 image, or ``None``.
        size: ``(H, W)`` of the prediction.
    """
    if tuple(disk_image.shape[:2]) == tuple(size):
        return disk_image
    if pipeline_input is not None and tuple(pipeline_input.shape[-2:]) == tuple(size):
        return np.ascontiguousarray(pipeline_input.permute(1, 2, 0).cpu().numpy()[..., ::-1])
    return mmcv.imresize(disk_image, (size[1], size[0]))


@HOOKS.register_module()
class USSVisualizationHook(SegVisualizationHook):
    """``SegVisualizationHook`` (same options) that draws on the evaluated image.

    mmseg's hook draws on the file from disk, which fails when the test
    pipeline crops (the USS centre-crop protocol scores the crop as the
    original); this one picks the image with :func:`evaluated_image`.
    ``tools/test.py --show/--show-dir`` uses it in place of
    ``SegVisualizationHook``.
    """

    def _after_iter(self, runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence[SegDataSample], mode: str = 'val') -> None:
        """mmseg's ``_after_iter`` (val and test), with :func:`evaluated_image`.

        Under DDP every rank's images are gathered to the main process, the only
        one mmengine's visualiser draws in, so all images are drawn.
        """
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        inputs = (data_batch or {}).get('inputs')
        items = [self._drawable(sample, inputs[index] if inputs is not None
                                and index < len(inputs) else None, mode)
                 for index, sample in enumerate(outputs)]
        if get_world_size() > 1:
            items = [item for part in all_gather_object(
                [(name, image, slim_sample(sample)) for name, image, sample in items])
                     for item in part]
            if not is_main_process():
                return
        for name, image, sample in items:
            self._visualizer.add_datasample(name, image, data_sample=sample, show=self.show,
                                            wait_time=self.wait_time, step=runner.iter)

    def _drawable(self, sample: SegDataSample, pipeline_input: Optional[Tensor],
                  mode: str) -> Tuple[str, np.ndarray, SegDataSample]:
        """``(name, RGB image, sample)`` to draw for one prediction."""
        img = mmcv.imfrombytes(fileio.get(sample.img_path, backend_args=self.backend_args),
                               channel_order='rgb')
        size = (sample.pred_sem_seg.shape if 'pred_sem_seg' in sample
                else sample.metainfo.get('ori_shape', img.shape[:2]))
        return (f'{mode}_{osp.basename(sample.img_path)}',
                evaluated_image(img, pipeline_input, size), sample)


def slim_sample(sample: SegDataSample) -> SegDataSample:
    """A CPU copy of ``sample`` with what is drawn only (meta, prediction, ground truth)."""
    slim = SegDataSample(metainfo=sample.metainfo)
    for key in DRAWN_FIELDS:
        if key in sample:
            setattr(slim, key, getattr(sample, key).cpu())
    return slim
