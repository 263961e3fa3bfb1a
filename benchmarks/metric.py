"""Time HungarianIoUMetric against a plain per-image numpy implementation.

Prints one JSON line: seconds for update + compute over N predictions of
S×S pixels with C classes, for both, measured in the same run.
"""
import argparse
import json
import time

import numpy as np
import torch
from mmengine.logging import MMLogger
from scipy.optimize import linear_sum_assignment

from mmuss.evaluation.metrics import HungarianIoUMetric


def numpy_reference(preds, labels, num_classes: int, ignore_index: int = 255) -> float:
    """Straightforward per-image numpy confusion + one Hungarian matching → mIoU."""
    conf = np.zeros((num_classes, num_classes), np.int64)
    for pred, label in zip(preds, labels):
        valid = label != ignore_index
        conf += np.bincount(pred[valid].astype(np.int64) * num_classes + label[valid],
                            minlength=num_classes**2).reshape(num_classes, num_classes)
    rows, cols = linear_sum_assignment(conf, maximize=True)
    matched = np.zeros_like(conf)
    matched[cols] = conf[rows]
    tp = np.diag(matched)
    with np.errstate(invalid='ignore'):
        iou = tp / (matched.sum(1) + matched.sum(0) - tp)
    return float(np.nanmean(iou))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--num', type=int, default=500)
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--classes', type=int, default=27)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads (numpy bincount is single-threaded)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    MMLogger.get_instance('benchmark', log_level='WARNING')
    gen = torch.Generator().manual_seed(0)
    shape = (args.num, args.size, args.size)
    labels = torch.randint(0, args.classes, shape, generator=gen, dtype=torch.uint8)
    labels[:, :8] = 255
    preds = torch.randint(0, args.classes, shape, generator=gen, dtype=torch.uint8)
    preds[:, 100:] = labels[:, 100:] % args.classes
    samples = [
        dict(pred_sem_seg=dict(data=p[None].long()), gt_sem_seg=dict(data=lab[None].long()))
        for p, lab in zip(preds, labels)
    ]
    np_preds, np_labels = [p.numpy() for p in preds], [lab.numpy() for lab in labels]

    t_pkg, t_np = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        metric = HungarianIoUMetric(num_classes=args.classes, prefix='cluster')
        for i in range(0, args.num, 8):
            metric.process({}, samples[i:i + 8])
        miou_pkg = metric.compute_metrics(metric.results)['mIoU']
        t_pkg.append(time.perf_counter() - start)

        start = time.perf_counter()
        miou_np = numpy_reference(
            [p.astype(np.int64) for p in np_preds], [lab.astype(np.int64) for lab in np_labels],
            args.classes)
        t_np.append(time.perf_counter() - start)
    if abs(miou_pkg - round(miou_np * 100, 2)) > 1e-6:
        raise RuntimeError(f'mIoU differs: package {miou_pkg}, numpy {miou_np * 100:.2f}')
    print(json.dumps(dict(
        benchmark='metric', torch_threads=args.threads, num_predictions=args.num,
        size=args.size, classes=args.classes,
        mmuss_s=round(min(t_pkg), 4), numpy_per_image_s=round(min(t_np), 4),
        speedup=round(min(t_np) / min(t_pkg), 2), mIoU=miou_pkg)))


if __name__ == '__main__':
    main()
