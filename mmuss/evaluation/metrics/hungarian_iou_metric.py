"""Dataset-level Hungarian-matched IoU, the unsupervised segmentation metric."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, MMLogger, print_log
from mmseg.registry import METRICS
from prettytable import PrettyTable

from mmuss.utils.ignore_index import IGNORE_INDEX

from ..functional import MATCHINGS, confusion_update, match_and_score


def metric_num_classes(metric: BaseMetric, num_classes: Optional[int]) -> int:
    """``num_classes`` if given, else the number of ``classes`` of the metric's dataset."""
    if num_classes is not None:
        return num_classes
    if not metric.dataset_meta or 'classes' not in metric.dataset_meta:
        raise ValueError(f'{type(metric).__name__} needs num_classes or a dataset with '
                         f'`classes`.')
    return len(metric.dataset_meta['classes'])


@METRICS.register_module()
class HungarianIoUMetric(BaseMetric):
    """IoU after one cluster→class matching over the whole evaluation set.

    Every prediction adds its ``K×C`` cluster × class pixel counts; the
    matching is computed once, at the end, on the summed matrix (never per
    image or per batch, docs/methods/metric.md). Per-sample
    counts are what ranks exchange, so under DDP mmengine's collection drops
    the samples its sampler padded and the result equals a single-process run.

    Reported (×100, mmseg's table style): ``aAcc`` (pixel accuracy over
    labelled pixels), ``mIoU`` and ``mAcc`` — means over the classes that are
    labelled or predicted (classes with NaN IoU are left out, as the reference
    implementations do) — and per-class IoU/Acc in the log. The matching is
    logged and published in the message hub as ``<prefix>/cluster_to_class``.

    Args:
        num_classes: Number of classes ``C``; defaults to the dataset's.
        num_clusters: Number of clusters ``K >= C``; defaults to ``C``.
        matching: Protocol (``docs/methods/metric.md``): ``'hungarian'``
            (one-to-one, pixels of the ``K − C`` unmatched clusters count as
            misses), ``'hungarian_drop_unmatched'`` (one-to-one, their pixels
            are left out, as STEGO/HP), ``'hungarian_then_majority'``
            (one-to-one, then each unmatched cluster to its most frequent
            class, as PriMaPs), ``'majority'`` (each cluster to its most
            frequent class) or ``'none'`` (identity, for supervised probes).
            With ``K = C`` the Hungarian protocols coincide.
        pred_key: Data-sample field holding the prediction, e.g.
            ``'pred_sem_seg'`` (cluster probe) or ``'pred_linear_sem_seg'``.
        ignore_index: Label that never counts.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric-name prefix, e.g. ``'cluster'`` or ``'linear'``.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 num_clusters: Optional[int] = None,
                 matching: str = 'hungarian',
                 pred_key: str = 'pred_sem_seg',
                 ignore_index: int = IGNORE_INDEX,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if matching not in MATCHINGS:
            raise ValueError(f'matching={matching!r} is not one of {sorted(MATCHINGS)}.')
        if num_classes is not None and num_clusters is not None and num_clusters < num_classes:
            raise ValueError(f'num_clusters={num_clusters} < num_classes={num_classes}.')
        self._num_classes = num_classes
        self._num_clusters = num_clusters
        self.matching = matching
        self.pred_key = pred_key
        self.ignore_index = ignore_index
        self.cluster_to_class: Optional[np.ndarray] = None

    @property
    def num_classes(self) -> int:
        return metric_num_classes(self, self._num_classes)

    @property
    def num_clusters(self) -> int:
        return self.num_classes if self._num_clusters is None else self._num_clusters

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store each sample's ``K×C`` counts."""
        for sample in data_samples:
            if self.pred_key not in sample:
                raise KeyError(f'Data sample has no {self.pred_key!r}; available keys: '
                               f'{sorted(k for k in sample if k.startswith("pred"))}. Probe and '
                               f'other extra predictions come from mmuss segmentors (e.g. '
                               f'FrozenBackboneSegmentor); mmseg\'s EncoderDecoder only '
                               f'predicts \'pred_sem_seg\'.')
            pred = sample[self.pred_key]['data'].squeeze(0)
            label = sample['gt_sem_seg']['data'].squeeze(0)
            self.results.append(
                confusion_update(pred, label, self.num_clusters, self.num_classes,
                                 self.ignore_index).cpu().numpy())

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Sum the counts, match once, score, log the table and the matching."""
        confusion = np.sum(results, axis=0)
        mapping, scores = match_and_score(confusion, self.matching)
        self.cluster_to_class = mapping
        self.log_results(scores, mapping)
        MessageHub.get_current_instance().update_info(
            f'{self.prefix or "uss"}/cluster_to_class', mapping.tolist())
        return OrderedDict(
            (name, float(np.round(scores[name] * 100, 2))) for name in ('aAcc', 'mIoU', 'mAcc'))

    def class_names(self) -> List[str]:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None or len(classes) != self.num_classes:
            return [str(i) for i in range(self.num_classes)]
        return list(classes)

    def log_results(self, scores: Dict[str, np.ndarray], mapping: np.ndarray) -> None:
        """Per-class table (mmseg style) and the cluster→class matching."""
        logger: MMLogger = MMLogger.get_current_instance()
        names = self.class_names()
        table = PrettyTable()
        table.add_column('Class', names)
        table.add_column('IoU', np.round(scores['IoU'] * 100, 2).tolist())
        table.add_column('Acc', np.round(scores['Acc'] * 100, 2).tolist())
        print_log(f'per class results ({self.matching} matching, mean over classes with a '
                  f'defined IoU):\n' + table.get_string(), logger=logger)
        pairs = ', '.join(f'{k}->{names[c] if c >= 0 else "unmatched"}'
                          for k, c in enumerate(mapping))
        print_log(f'cluster to class: {pairs}', logger=logger)
