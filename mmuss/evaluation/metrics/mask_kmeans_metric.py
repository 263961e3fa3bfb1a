"""MaskContrast's K-means evaluation: cluster per-image mask embeddings, match by IoU."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.registry import METRICS
from prettytable import PrettyTable

from mmuss.utils.ignore_index import IGNORE_INDEX

from ..functional import scores_from_confusion
from ..functional.iou_matching import (
    cluster_mask_embeddings,
    iou_hungarian_matching,
    mask_cluster_confusion,
)
from .hungarian_iou_metric import metric_num_classes


def class_counts(label: torch.Tensor, region: torch.Tensor, num_classes: int,
                 ignore_index: int) -> np.ndarray:
    """``(C,)`` pixel count of every class inside ``region``, ignore label excluded."""
    valid = region & (label != ignore_index)
    values = label[valid].long()
    if values.numel() and (int(values.min()) < 0 or int(values.max()) >= num_classes):
        bad = int(values.max()) if int(values.max()) >= num_classes else int(values.min())
        raise ValueError(f'Label value {bad} is outside [0, {num_classes}) and is not '
                         f'ignore_index={ignore_index}.')
    return torch.bincount(values, minlength=num_classes).cpu().numpy()


@METRICS.register_module()
class MaskKMeansMetric(BaseMetric):
    """K-means on per-image mask embeddings, IoU-Hungarian matched (docs/methods/maskcontrast.md).

    Each prediction (from :class:`MaskContrast`) carries one embedding per
    image (``mask_embedding``) and a binary saliency map (``pred_sem_seg``).
    After the split: whitening PCA + MiniBatchKMeans(``num_clusters``) over
    the embeddings (fitted on the evaluated split itself, docs/methods/maskcontrast.md Q8);
    image ``i`` then predicts ``cluster_i + 1`` on its salient pixels and
    ``0`` elsewhere; predicted labels are matched one-to-one to classes by
    maximal total IoU; mIoU is the mean over all classes with ``IoU = TP /
    max(TP+FP+FN, 1e-8)`` (a class neither labelled nor predicted counts 0).
    This repeats for ``num_seeds`` seeds (``random_state = seed_base + i``)
    and the figures are averaged; ``mIoU_std`` is their standard deviation.

    Only per-image class counts inside/outside the salient region are kept,
    never the maps, so memory is ``O(N·C)``.

    Args:
        num_clusters: K-means clusters (20 on VOC: one per object class).
        num_classes: Classes ``C`` incl. background; defaults to the dataset's.
        num_seeds: K-means repetitions (5).
        seed_base: First ``random_state`` (1234).
        pca_dims: Whitening-PCA dimensions (32), ``None`` to skip.
        batch_size: MiniBatchKMeans batch size (1000).
        ignore_index: Label that never counts.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric-name prefix.
    """

    def __init__(self,
                 num_clusters: int = 20,
                 num_classes: Optional[int] = None,
                 num_seeds: int = 5,
                 seed_base: int = 1234,
                 pca_dims: Optional[int] = 32,
                 batch_size: int = 1000,
                 ignore_index: int = IGNORE_INDEX,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if num_seeds < 1:
            raise ValueError(f'num_seeds must be >= 1, got {num_seeds}.')
        self.num_clusters = num_clusters
        self._num_classes = num_classes
        self.num_seeds = num_seeds
        self.seed_base = seed_base
        self.pca_dims = pca_dims
        self.batch_size = batch_size
        self.ignore_index = ignore_index

    @property
    def num_classes(self) -> int:
        return metric_num_classes(self, self._num_classes)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each image's embedding and class counts inside/outside its salient region."""
        for sample in data_samples:
            missing = [k for k in ('mask_embedding', 'pred_sem_seg', 'gt_sem_seg')
                       if k not in sample]
            if missing:
                raise KeyError(f'MaskKMeansMetric needs {missing} in every data sample '
                               f'(predictions of MaskContrast); got {sorted(sample)}.')
            salient = sample['pred_sem_seg']['data'].squeeze(0).bool()
            label = sample['gt_sem_seg']['data'].squeeze(0).to(salient.device)
            if salient.shape != label.shape:
                raise ValueError(f'Saliency prediction {tuple(salient.shape)} and label '
                                 f'{tuple(label.shape)} of {sample.get("img_path")} differ.')
            self.results.append((
                sample['mask_embedding'].detach().float().cpu().numpy(),
                class_counts(label, salient, self.num_classes, self.ignore_index),
                class_counts(label, ~salient, self.num_classes, self.ignore_index)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Cluster, match and score for every seed; report the means."""
        embeddings = np.stack([r[0] for r in results])
        fg = np.stack([r[1] for r in results])
        bg = np.stack([r[2] for r in results])
        if self.num_clusters + 1 < self.num_classes:
            raise ValueError(f'num_clusters + 1 = {self.num_clusters + 1} labels cannot cover '
                             f'{self.num_classes} classes.')
        if len(embeddings) < self.num_clusters:
            raise ValueError(f'{len(embeddings)} images cannot form {self.num_clusters} clusters.')
        runs = []
        for i in range(self.num_seeds):
            assign = cluster_mask_embeddings(embeddings, self.num_clusters, self.seed_base + i,
                                             self.pca_dims, self.batch_size)
            confusion = mask_cluster_confusion(assign, fg, bg, self.num_clusters)
            scores = scores_from_confusion(confusion, iou_hungarian_matching(confusion))
            runs.append(dict(IoU=np.nan_to_num(scores['IoU'], nan=0.0), aAcc=scores['aAcc']))
        iou = np.stack([r['IoU'] for r in runs])
        miou = iou.mean(axis=1)
        self.log_table(iou.mean(axis=0), miou)
        return OrderedDict(
            mIoU=float(np.round(miou.mean() * 100, 2)),
            mIoU_std=float(np.round(miou.std() * 100, 2)),
            aAcc=float(np.round(np.mean([r['aAcc'] for r in runs]) * 100, 2)))

    def log_table(self, class_iou: np.ndarray, seed_miou: np.ndarray) -> None:
        """Per-class IoU averaged over seeds, and each seed's mIoU."""
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None or len(classes) != self.num_classes:
            classes = [str(c) for c in range(self.num_classes)]
        table = PrettyTable()
        table.add_column('Class', list(classes))
        table.add_column('IoU', np.round(class_iou * 100, 2).tolist())
        print_log(f'K-means ({self.num_clusters} clusters, {self.num_seeds} seeds) per-class '
                  f'IoU (mean over seeds):\n{table.get_string()}\nmIoU per seed: '
                  f'{np.round(seed_miou * 100, 2).tolist()}',
                  logger=MMLogger.get_current_instance())
