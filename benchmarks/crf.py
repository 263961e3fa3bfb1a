"""Dense-CRF throughput: seconds per 320×320 image with 27 classes, in-process vs worker pool.

``python benchmarks/crf.py [--images 8] [--workers 2]`` prints one JSON line.
Both settings refine the same synthetic batch in the same run; the pool is
started (and its workers' imports paid) before timing, as a persistent pool
is during a whole evaluation, and its start-up time is reported separately.
The 1-minute load average is reported too: on a shared machine other
processes take the cores the pool is meant to use.
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

from mmuss.models.utils.dense_crf import batched_dense_crf


def synthetic_batch(num_images: int, size: int = 320, num_classes: int = 27,
                    feat_size: int = 40):
    """Blocky uint8 images and smooth random log-probabilities at feature resolution."""
    gen = torch.Generator().manual_seed(0)
    blocks = torch.randint(0, 256, (num_images, 3, 8, 8), dtype=torch.uint8, generator=gen)
    images = F.interpolate(blocks.float(), size=(size, size), mode='nearest').to(torch.uint8)
    logits = torch.randn(num_images, num_classes, feat_size // 4, feat_size // 4, generator=gen)
    logits = F.interpolate(logits * 3, size=(feat_size, feat_size), mode='bilinear',
                           align_corners=False)
    return images, logits.log_softmax(1)


def seconds_per_image(images, log_probs, num_workers: int) -> float:
    start = time.perf_counter()
    batched_dense_crf(images, log_probs, num_workers=num_workers)
    return (time.perf_counter() - start) / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, log_probs = synthetic_batch(args.images)
    start = time.perf_counter()
    seconds_per_image(images[:args.workers, :, :8, :8], log_probs[:args.workers], args.workers)
    startup = time.perf_counter() - start
    single = seconds_per_image(images, log_probs, num_workers=0)
    pooled = seconds_per_image(images, log_probs, num_workers=args.workers)
    print(json.dumps(dict(
        benchmark='dense_crf', image_size=320, num_classes=27, num_iters=10,
        images=args.images, cpu_count=os.cpu_count(), single_process_s_per_image=round(single, 4),
        pool_workers=args.workers, pool_s_per_image=round(pooled, 4),
        pool_speedup=round(single / pooled, 2), pool_startup_s=round(startup, 2),
        load_average_1min=round(os.getloadavg()[0], 2))))


if __name__ == '__main__':
    main()
