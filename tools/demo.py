"""``make demo``: train and evaluate a USS model on the embedded synthetic dataset.

Generates the synthetic textures dataset (no download), trains the config on
CPU, evaluates it with the Hungarian-matched metric and writes a picture grid
(image | ground truth | prediction mapped through the matching) plus the
checkpoint to the work dir.
"""
import argparse
import json
import os.path as osp
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

import mmuss  # noqa: F401
from mmuss.datasets.synthetic_textures import generate_synthetic_textures
from mmuss.utils.fileio import atomic_write

DEFAULT_CONFIG = 'configs/baseline/baseline_vit-tiny-p4_100i_synthetic-textures-96.py'
MIOU_BAR = 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic_textures')
    parser.add_argument('--max-iters', type=int, help='override train_cfg.max_iters')
    parser.add_argument('--num-pictures', type=int, default=8)
    return parser.parse_args()


def colourise(ids: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """``H×W`` class ids (``255`` or ``-1`` = none) → ``H×W×3`` colours (black for none)."""
    out = np.zeros((*ids.shape, 3), np.uint8)
    known = (ids >= 0) & (ids < len(palette))
    out[known] = palette[ids[known]]
    return out


def picture_grid(runner: Runner, mapping: np.ndarray, num: int, path: str) -> None:
    """Rows of image | ground truth | matched prediction for the first ``num`` val images."""
    dataset = runner.val_dataloader.dataset
    palette = np.asarray(dataset.metainfo['palette'], np.uint8)
    batch = runner.val_dataloader.collate_fn([dataset[i] for i in range(min(num, len(dataset)))])
    runner.model.eval()
    with torch.no_grad():
        samples = runner.model.test_step(batch)
    rows = []
    for sample in samples:
        image = np.asarray(Image.open(sample.img_path).convert('RGB'))
        gt = sample.gt_sem_seg.data[0].cpu().numpy().astype(np.int64)
        pred = mapping[sample.pred_sem_seg.data[0].cpu().numpy()]
        gap = np.full((image.shape[0], 4, 3), 255, np.uint8)
        rows.append(np.concatenate(
            [image, gap, colourise(gt, palette), gap, colourise(pred, palette)], axis=1))
        rows.append(np.full((4, rows[-1].shape[1], 3), 255, np.uint8))
    grid = Image.fromarray(np.concatenate(rows[:-1], axis=0))
    atomic_write(path, lambda tmp: grid.save(tmp, format='PNG'))


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    counts = generate_synthetic_textures(args.data_root)
    print(f'[demo] synthetic dataset at {args.data_root}: {counts}', flush=True)

    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = args.data_root
    if args.max_iters is not None:
        cfg.train_cfg.max_iters = args.max_iters
        cfg.train_cfg.val_interval = args.max_iters
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    mapping = np.asarray(runner.message_hub.get_info('cluster/cluster_to_class'))
    grid_path = osp.join(args.work_dir, 'demo_grid.png')
    picture_grid(runner, mapping, args.num_pictures, grid_path)
    checkpoint = osp.join(args.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    elapsed = time.perf_counter() - start
    summary = dict(config=args.config, seconds=round(elapsed, 1), checkpoint=checkpoint,
                   picture=grid_path, **{k: float(v) for k, v in metrics.items()})
    print('[demo] ' + json.dumps(summary), flush=True)
    miou = metrics['cluster/mIoU']
    verdict = 'reaches' if miou >= MIOU_BAR else 'MISSES'
    print(f'[demo] Hungarian mIoU on the synthetic val split: {miou:.2f} '
          f'({verdict} the {MIOU_BAR:.0f} bar; chance is about {100 / 6:.0f}) '
          f'in {elapsed:.0f} s', flush=True)
    if miou < MIOU_BAR:
        raise SystemExit(1)


if __name__ == '__main__':
    main()
