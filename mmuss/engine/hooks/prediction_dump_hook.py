"""``tools/test.py --out DIR``: per-image cluster-id and class-id PNGs plus the metrics JSON."""
import os
import os.path as osp
from numbers import Number
from typing import Optional

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS
from PIL import Image

from mmuss.utils.cluster_matching import clusters_to_classes
from mmuss.utils.fileio import atomic_write, atomic_write_json

from .cluster_matching_hook import matching_record_from_evaluator


def write_id_png(ids: np.ndarray, path: str) -> None:
    """An integer map as an 8-bit PNG (16-bit above 255 ids), written atomically."""
    dtype = np.uint8 if int(ids.max(initial=0)) <= 255 else np.uint16
    atomic_write(path, lambda tmp: Image.fromarray(ids.astype(dtype)).save(tmp, format='PNG'),
                 '.png')


def plain_metrics(metrics: Optional[dict]) -> dict:
    """Metrics as JSON-serialisable numbers (numpy and tensor scalars to float)."""
    out = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, (torch.Tensor, np.ndarray)):
            value = value.tolist()
        elif isinstance(value, Number):
            value = float(value) if not isinstance(value, (bool, int)) else value
        out[key] = value
    return out


@HOOKS.register_module()
class PredictionDumpHook(Hook):
    """Save test predictions as mmseg 1.x's ``--out`` does, for cluster predictions.

    ``out_dir/clusters/<image>.png`` holds each image's predicted cluster ids
    (``pred_key``) at the evaluated size; after the test epoch,
    ``out_dir/classes/<image>.png`` holds them mapped to class ids through the
    matching the evaluator found on this test set (``255`` for unmatched
    clusters), and ``out_dir/metrics.json`` the metrics. Works with any
    evaluator (single or list); class maps need a metric with a matching
    (e.g. :class:`HungarianIoUMetric`) scoring ``pred_key``.

    Args:
        out_dir: Output folder.
        pred_key: Data-sample field with the predicted cluster ids.
    """

    priority = 'LOW'  # after the test metrics are computed

    def __init__(self, out_dir: str, pred_key: str = 'pred_sem_seg') -> None:
        self.out_dir = out_dir
        self.pred_key = pred_key

    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[list] = None) -> None:
        cluster_dir = osp.join(self.out_dir, 'clusters')
        os.makedirs(cluster_dir, exist_ok=True)
        for sample in outputs or []:
            if self.pred_key not in sample:
                raise KeyError(f'--out: the model\'s predictions have no {self.pred_key!r}.')
            name = osp.splitext(osp.basename(sample.img_path))[0] + '.png'
            pred = sample.get(self.pred_key).data.squeeze(0).cpu().numpy()
            write_id_png(pred, osp.join(cluster_dir, name))

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if not is_main_process():
            return
        os.makedirs(self.out_dir, exist_ok=True)
        path = osp.join(self.out_dir, 'metrics.json')
        atomic_write_json(path, plain_metrics(metrics), indent=1)
        record = matching_record_from_evaluator(runner.test_evaluator, self.pred_key)
        if record is None:
            print_log(f'--out: no metric matched {self.pred_key} to classes; wrote cluster ids '
                      f'and metrics only to {self.out_dir}.', logger='current')
            return
        cluster_dir = osp.join(self.out_dir, 'clusters')
        class_dir = osp.join(self.out_dir, 'classes')
        os.makedirs(class_dir, exist_ok=True)
        names = sorted(n for n in os.listdir(cluster_dir) if n.endswith('.png')
                       and not n.startswith('.'))
        for name in names:
            clusters = torch.from_numpy(np.asarray(Image.open(osp.join(cluster_dir, name)),
                                                   dtype=np.int64))
            classes = clusters_to_classes(clusters, record['cluster_to_class'])
            write_id_png(classes.numpy(), osp.join(class_dir, name))
        print_log(f'--out: wrote {len(names)} cluster-id and class-id maps and metrics.json '
                  f'to {self.out_dir}.', logger='current')
