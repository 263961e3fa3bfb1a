"""Keep the cluster→class matching of the latest evaluation with the checkpoints."""
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmuss.utils.checkpoint import read_checkpoint
from mmuss.utils.fileio import atomic_write
from mmuss.utils.cluster_matching import (CHECKPOINT_META_KEY, MATCHING_INFO_KEY, MATCHING_JSON,
                                          check_matching, matching_from_checkpoint,
                                          save_matching_json)


def matching_record_from_evaluator(evaluator, pred_key: str) -> Optional[dict]:
    """The matching record of the evaluator's metric scoring ``pred_key``, if it has one.

    Only the process that computed the metrics (rank 0) holds it.
    """
    for metric in getattr(evaluator, 'metrics', []):
        mapping = getattr(metric, 'cluster_to_class', None)
        if getattr(metric, 'pred_key', None) != pred_key or mapping is None:
            continue
        meta = metric.dataset_meta or {}
        classes = list(meta.get('classes') or [])
        palette = meta.get('palette')
        record = dict(cluster_to_class=[int(c) for c in mapping], classes=classes,
                      protocol=getattr(metric, 'matching', None),
                      palette=[list(map(int, p)) for p in palette]
                      if palette is not None and len(palette) == len(classes) else [])
        return check_matching(record, source=type(metric).__name__)
    return None


@HOOKS.register_module()
class ClusterMatchingHook(Hook):
    """Store the cluster→class matching found at evaluation with the checkpoints.

    Predictions are cluster ids; :class:`HungarianIoUMetric` matches them to
    classes at every evaluation. This hook keeps that matching (and its
    protocol's name) so inference can emit class ids and names. A cluster
    without class (``-1``: the clusters a one-to-one protocol leaves
    unmatched, ``'hungarian'`` or ``'hungarian_drop_unmatched'``) is painted
    ``ignore_index`` at inference (docs/methods/metric.md):

    - after each validation it takes the matching of the metric whose
      ``pred_key`` is ``pred_key``, writes ``cluster_to_class.json`` beside the
      checkpoints and publishes the record in the message hub under
      ``'uss/matching'`` (read by :class:`USSLocalVisualizer`);
    - every checkpoint saved afterwards carries the latest record in
      ``meta['uss_matching']``. mmengine's ``CheckpointHook`` saves in
      ``after_train_iter``/``after_train_epoch``, *before* the validation of
      the same step, so when the last checkpoint was saved at the step just
      evaluated the hook rewrites that file with the new record (checkpoint
      and matching then describe the same weights); best checkpoints are
      saved after this hook runs and carry it directly;
    - after a test run (``tools/test.py``) it writes the matching to
      ``<log_dir>/cluster_to_class.json`` (give it to ``tools/infer.py
      --matching``);
    - when a checkpoint is loaded it publishes the checkpoint's record, so
      ``tools/test.py --show-dir`` draws classes.

    Args:
        pred_key: Prediction whose metric's matching is kept.
        out_dir: Folder of the JSON written during training; defaults to
            the folder of the latest checkpoint, else the work dir.
        rewrite_checkpoint: Rewrite the checkpoint saved just before an
            evaluation of the same step (one extra load and save).
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW) saves the best checkpoint

    def __init__(self, pred_key: str = 'pred_sem_seg', out_dir: Optional[str] = None,
                 rewrite_checkpoint: bool = True) -> None:
        self.pred_key = pred_key
        self.out_dir = out_dir
        self.rewrite_checkpoint = rewrite_checkpoint
        self.latest: Optional[dict] = None
        self._last_save_iter: Optional[int] = None

    def publish(self, runner, record: dict) -> None:
        self.latest = record
        runner.message_hub.update_info(MATCHING_INFO_KEY, record, resumed=False)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        record = matching_from_checkpoint(checkpoint)
        if record is not None:
            self.publish(runner, check_matching(record, source='checkpoint meta'))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        self._last_save_iter = meta.get('iter')
        if self.latest is not None:
            meta[CHECKPOINT_META_KEY] = self.latest

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        record = matching_record_from_evaluator(runner.val_evaluator, self.pred_key)
        if record is None:
            return
        record.update(iter=runner.iter, epoch=runner.epoch)
        self.publish(runner, record)
        if not is_main_process():
            return
        last_ckpt = runner.message_hub.get_info('last_ckpt')
        out_dir = self.out_dir or (osp.dirname(last_ckpt) if last_ckpt else runner.work_dir)
        os.makedirs(out_dir, exist_ok=True)
        save_matching_json(record, osp.join(out_dir, MATCHING_JSON))
        if (self.rewrite_checkpoint and self._last_save_iter == runner.iter and last_ckpt
                and osp.isfile(last_ckpt)):
            rewrite_checkpoint_matching(last_ckpt, record)
            print_log(f'Stored the cluster→class matching of iteration {runner.iter} in '
                      f'{last_ckpt}.', logger='current')

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        record = matching_record_from_evaluator(runner.test_evaluator, self.pred_key)
        if record is None or not is_main_process():
            return
        path = osp.join(runner.log_dir, MATCHING_JSON)
        save_matching_json(record, path)
        self.latest = record
        print_log(f'Saved the cluster→class matching to {path} (use it with '
                  f'tools/infer.py --matching).', logger='current')


def rewrite_checkpoint_matching(path: str, record: dict) -> None:
    """Set ``meta['uss_matching']`` of the checkpoint file ``path`` (atomic replace)."""
    checkpoint = read_checkpoint(path)
    checkpoint.setdefault('meta', {})[CHECKPOINT_META_KEY] = record
    atomic_write(path, lambda tmp: torch.save(checkpoint, tmp))
