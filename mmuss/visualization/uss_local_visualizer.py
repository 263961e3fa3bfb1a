"""mmseg's local visualiser for cluster predictions, drawn as matched classes when known."""
import colorsys
import os.path as osp
from typing import List, Optional, Tuple

import mmcv
import numpy as np
from mmengine.dist import master_only
from mmengine.logging import MessageHub
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..utils.cluster_matching import MATCHING_INFO_KEY, check_matching, clusters_to_classes
from ..utils.fileio import atomic_write

GOLDEN_RATIO_CONJUGATE = 0.6180339887498949


def cluster_palette(num_colors: int) -> List[List[int]]:
    """``num_colors`` distinct RGB colours, colour ``k`` independent of ``num_colors``.

    Hue ``h_k = (k φ⁻¹) mod 1`` (golden-ratio steps spread hues evenly), with
    saturation/value cycling over three levels so neighbouring ids differ in
    brightness too.
    """
    colors = []
    for k in range(num_colors):
        hue = (k * GOLDEN_RATIO_CONJUGATE) % 1.0
        sat, val = ((0.85, 0.95), (0.55, 0.85), (0.95, 0.65))[k % 3]
        colors.append([round(c * 255) for c in colorsys.hsv_to_rgb(hue, sat, val)])
    return colors


def fit_palette(palette: Optional[List[List[int]]], num_colors: int) -> List[List[int]]:
    """``palette`` if it has ``num_colors`` entries, else :func:`cluster_palette`."""
    if palette is not None and len(palette) == num_colors:
        return [list(map(int, c)) for c in palette]
    return cluster_palette(num_colors)


@VISUALIZERS.register_module()
class USSLocalVisualizer(SegLocalVisualizer):
    """``SegLocalVisualizer`` for models that predict cluster ids.

    With a cluster→class matching — given by :meth:`set_matching` or, by
    default, the record :class:`~mmuss.engine.hooks.ClusterMatchingHook`
    publishes in the message hub (from the loaded checkpoint at test time, from
    the latest evaluation during training) — predicted clusters are drawn as
    their classes, with the class names and palette of the matching (or of the
    dataset); pixels of unmatched clusters stay unpainted. Without one, cluster
    ``k`` is drawn as ``"cluster k"`` in :func:`cluster_palette` colours.
    Ground truth is drawn with the dataset's classes.

    Args:
        name: Instance name.
        matching_key: Message-hub key holding the matching record.
        **kwargs: Arguments of ``SegLocalVisualizer`` (``vis_backends``,
            ``save_dir``, ``alpha``, ...).
    """

    def __init__(self, name: str = 'visualizer', matching_key: str = MATCHING_INFO_KEY,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.matching_key = matching_key
        self._matching: Optional[dict] = None

    def set_matching(self, record: Optional[dict]) -> None:
        """Use this matching record (``None``: fall back to the message hub)."""
        self._matching = None if record is None else check_matching(record)

    def current_matching(self) -> Optional[dict]:
        """The explicit matching, else the message hub's, else ``None``."""
        if self._matching is not None:
            return self._matching
        record = MessageHub.get_current_instance().get_info(self.matching_key)
        return None if record is None else check_matching(record, source=self.matching_key)

    def prediction_layers(self, pred: PixelData) -> Tuple[PixelData, List[str], List[list]]:
        """The prediction to draw with its class names and palette."""
        record = self.current_matching()
        if record is None:
            num = int(pred.data.max()) + 1 if pred.data.numel() else 0
            return pred, [f'cluster {k}' for k in range(num)], cluster_palette(num)
        classes = record['classes'] or list(self.dataset_meta.get('classes') or [])
        if not classes:
            classes = [f'class {c}' for c in range(max(record['cluster_to_class']) + 1)]
        palette = record['palette'] or self.dataset_meta.get('palette')
        mapped = clusters_to_classes(pred.data, record['cluster_to_class'])
        return PixelData(data=mapped), classes, fit_palette(palette, len(classes))

    def gt_classes_and_palette(self) -> Tuple[List[str], List[list]]:
        """Class names and colours of ground truth: the dataset's, else the matching's."""
        meta = self.dataset_meta or {}
        classes, palette = meta.get('classes'), meta.get('palette')
        if not classes:
            record = self.current_matching() or {}
            classes, palette = record.get('classes'), record.get('palette')
        if not classes:
            raise ValueError('Drawing gt_sem_seg needs class names: dataset_meta["classes"] '
                             'or a matching record with "classes".')
        return list(classes), fit_palette(palette, len(classes))

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw ground truth (dataset classes) and prediction (matched classes or clusters).

        Same contract as ``SegLocalVisualizer.add_datasample``: ground truth
        and prediction side by side when both are drawn; saved to
        ``out_file`` or the visualisation backends; shown if ``show``; kept as
        the visualiser's image (``get_image()``).
        """
        panels = []
        if draw_gt and data_sample is not None and 'gt_sem_seg' in data_sample:
            classes, palette = self.gt_classes_and_palette()
            panels.append(self._draw_sem_seg(image, data_sample.gt_sem_seg, classes, palette,
                                             with_labels))
        if draw_pred and data_sample is not None and 'pred_sem_seg' in data_sample:
            pred, classes, palette = self.prediction_layers(data_sample.pred_sem_seg.cpu())
            panels.append(self._draw_sem_seg(image, pred, classes, palette, with_labels))
        drawn = np.concatenate(panels, axis=1) if panels else image
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            atomic_write(out_file, lambda tmp: mmcv.imwrite(mmcv.rgb2bgr(drawn), tmp),
                         osp.splitext(out_file)[1])
        else:
            self.add_image(name, drawn, step)
