"""MaskContrast segment retrieval: label val masks by their nearest train mask.

Equation: docs/methods/maskcontrast.md eq. 12.

A memory bank is built from the ``--bank-split`` images (VOC ``train``, not
``train_aug``, as the reference code does): one saliency-weighted prototype
per image, labelled with the most frequent ground-truth class inside the
predicted salient region (background and void do not vote; images without
such pixels are skipped). Every val image's prototype takes the label of its
nearest bank prototype (dot product), painted on its predicted salient
region, background elsewhere. Scores are dataset-level IoUs:

- ``mIoU_21``: mean over all 21 classes;
- ``mIoU_7``: the ground truth of 13 classes is set to void in both sets and
  the mean runs over the other 7 object classes (background excluded).

Predictions are scored at the original image size (the reference scores at
512×512). Prints ONE JSON line.

Usage::

    python tools/maskcontrast_retrieval.py CONFIG CHECKPOINT \\
        [--bank-split ImageSets/Segmentation/train.txt]
"""
import argparse
import copy
import json
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint
from mmseg.registry import MODELS

import mmuss  # noqa: F401  (registers the components)
from mmuss.evaluation.functional import iou_from_confusion
from mmuss.evaluation.functional.segment_retrieval import (
    VOC_RETRIEVAL_DROPPED,
    keep_classes,
    majority_labels,
    retrieval_confusion,
    retrieve_labels,
)
from mmuss.evaluation.metrics.mask_kmeans_metric import class_counts
from mmuss.apis.tool_args import add_trust_checkpoint_arg


def encode_split(model: torch.nn.Module, loader, num_classes: int,
                 ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prototypes ``N×D`` and class counts inside/outside the predicted saliency, ``N×C`` each."""
    protos, fg, bg = [], [], []
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                salient = sample.pred_sem_seg.data[0].bool()
                label = sample.gt_sem_seg.data[0].to(salient.device)
                protos.append(sample.mask_embedding.float().cpu().numpy())
                fg.append(class_counts(label, salient, num_classes, ignore_index))
                bg.append(class_counts(label, ~salient, num_classes, ignore_index))
    return np.stack(protos), np.stack(fg), np.stack(bg)


def retrieval_miou(bank: tuple, queries: tuple, num_classes: int,
                   dropped: Tuple[int, ...] = ()) -> float:
    """Mean IoU (%) of retrieval predictions, over the classes not in ``dropped``.

    With ``dropped`` classes the background is left out of the mean as well.
    """
    bank_fg, query_fg, query_bg = (keep_classes(c, dropped) for c in (bank[1], queries[1],
                                                                      queries[2]))
    labels = retrieve_labels(queries[0], bank[0], majority_labels(bank_fg))
    confusion = retrieval_confusion(labels, query_fg, query_bg, num_classes)
    iou = np.diag(iou_from_confusion(confusion))
    kept = [c for c in range(num_classes) if c not in dropped and (not dropped or c != 0)]
    return round(float(iou[kept].mean()) * 100, 2)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--bank-split', default='ImageSets/Segmentation/train.txt',
                        help='ann_file of the memory-bank images (relative to data_root)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_trust_checkpoint_arg(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()
    bank_loader_cfg = copy.deepcopy(cfg.test_dataloader)
    bank_loader_cfg.dataset.ann_file = args.bank_split
    query_loader = Runner.build_dataloader(cfg.test_dataloader)
    num_classes = len(query_loader.dataset.metainfo['classes'])
    queries = encode_split(model, query_loader, num_classes)
    bank = encode_split(model, Runner.build_dataloader(bank_loader_cfg), num_classes)
    result = dict(bank_images=len(bank[0]), query_images=len(queries[0]),
                  mIoU_21=retrieval_miou(bank, queries, num_classes))
    if num_classes == 21:
        result['mIoU_7'] = retrieval_miou(bank, queries, num_classes, VOC_RETRIEVAL_DROPPED)
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
