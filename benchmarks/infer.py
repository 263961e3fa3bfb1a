"""Throughput of ``mmuss.apis.inference`` on 640×480 images: batch 1 and 8, with and without CRF.

``python benchmarks/infer.py [--images 8] [--batch-sizes 1 8] [--crf-workers 0]`` prints one
JSON line. The issue's setting is ``--images 32``; the default of 8 (one batch of 8) runs 33
ViT-S/8 forwards at 432×320, which take 2.5–6 s each on the 2-core CPU machine depending on
how busy it is (4 minutes at load 5), and per-image throughput does not depend on the number
of images. The model is the DINO ViT-S/8 architecture (random weights: nothing is downloaded)
with a 27-cluster ``ClusterProbeHead``, fed by the ``image_folder.py`` test pipeline (shorter side
resized to 320, i.e. 427×320 padded to 432×320 for the /8 patches); predictions come back at
640×480. The four settings run side by side in one process on the same images, interleaved
chunk by chunk (chunks of the largest batch size) so that changes in machine load affect them
alike, after one warm-up image; the CRF is the package's ``batched_dense_crf`` (pydensecrf)
with the reference parameters. The 1-minute load average is reported: other processes on a
shared machine take cores from the timed run.
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.config import Config

import mmuss  # noqa: F401
from mmuss.apis import inference, init_model

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--crf-workers', type=int, default=0,
                        help='CRF worker processes (0: in the calling process)')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    return parser.parse_args()


def benchmark_config(crf_workers: int) -> Config:
    """DINO ViT-S/8 (random init) + 27-cluster probe + the image-folder test pipeline."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/image_folder.py'))
    cfg.merge_from_dict(dict(
        default_scope='mmseg',
        model=dict(
            type='FrozenBackboneSegmentor',
            data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                                   test_cfg=dict(size_divisor=8)),
            backbone=dict(type='DinoVisionTransformer', arch='small', patch_size=8,
                          img_size=224),
            decode_head=dict(type='ClusterProbeHead', in_channels=384, num_classes=27,
                             linear_probe=False),
            test_cfg=dict(mode='whole', crf=dict(num_workers=crf_workers)))))
    return cfg


def synthetic_images(num: int, height: int = 480, width: int = 640) -> list:
    """Blocky BGR uint8 images (regions for the CRF's bilateral kernel to follow)."""
    rng = np.random.default_rng(0)
    images = []
    for _ in range(num):
        blocks = rng.integers(0, 256, (height // 40, width // 40, 3), dtype=np.uint8)
        images.append(np.repeat(np.repeat(blocks, 40, axis=0), 40, axis=1))
    return images


def seconds(model, images: list, batch_size: int, crf: bool) -> float:
    """Wall time of one ``inference`` call on ``images``."""
    start = time.perf_counter()
    results = inference(model, images, batch_size=batch_size, crf=crf)
    elapsed = time.perf_counter() - start
    assert results[0].pred_sem_seg.data.shape[-2:] == images[0].shape[:2]
    return elapsed


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = init_model(benchmark_config(args.crf_workers), device='cpu')
    images = synthetic_images(args.images)
    inference(model, images[:1], crf=True)  # warm-up (and CRF worker start-up)
    settings = [(b, crf) for b in args.batch_sizes for crf in (False, True)]
    totals = dict.fromkeys(settings, 0.0)
    chunk = max(args.batch_sizes)
    for start in range(0, len(images), chunk):  # interleaved: load drift hits every setting
        for batch_size, crf in settings:
            totals[batch_size, crf] += seconds(model, images[start:start + chunk], batch_size, crf)
    figures = {f'images_per_s_batch{b}_{"crf" if crf else "no_crf"}': round(len(images) / t, 3)
               for (b, crf), t in totals.items()}
    print(json.dumps(dict(
        benchmark='inference', model='DINO ViT-S/8 (random weights) + ClusterProbeHead K=27',
        image_size='640x480', network_input='432x320', images=args.images,
        torch_threads=args.threads, crf_workers=args.crf_workers, device='cpu', **figures,
        load_avg_1min=round(os.getloadavg()[0], 2))))


if __name__ == '__main__':
    main()
