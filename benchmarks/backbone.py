"""Images/s and peak memory of frozen DINO ViT-S/8, B/8, DINOv3 ViT-S/16, B/16, L/16: SDPA/explicit.

Prints ONE JSON line. Each (model, attention path) pair runs in its own fresh
subprocess, one after the other, so the peak-memory readings do not mix:

- images/s: ``batch × iters / seconds`` of the timed forward passes (after
  warm-up), frozen backbone (eval, ``no_grad``), random weights;
- ``peak_forward_mib``: memory the forward pass adds on top of the model and
  its input. On CUDA ``torch.cuda.max_memory_allocated`` minus the allocation
  before the first forward; on CPU the peak resident set size
  (``resource.getrusage``) minus the resident size before the first forward.

The paths are ``attn_impl='sdpa'`` (``scaled_dot_product_attention``) and
``attn_impl='explicit'`` (``softmax(q·kᵀ·d^-½)·v``).

Usage::

    python benchmarks/backbone.py                     # CPU, fp32, a few minutes
    python benchmarks/backbone.py --models dinov3-vit-s16 dinov3-vit-b16 dinov3-vit-l16
    python benchmarks/backbone.py --device cuda --amp bf16
"""
import argparse
import json
import multiprocessing as mp
import resource
import time
from typing import Dict

import torch

# name: (backbone class, arch, patch size)
MODELS = {
    'dino-vit-s8': ('DinoVisionTransformer', 'small', 8),
    'dino-vit-b8': ('DinoVisionTransformer', 'base', 8),
    'dinov3-vit-s16': ('DinoV3VisionTransformer', 'small', 16),
    'dinov3-vit-b16': ('DinoV3VisionTransformer', 'base', 16),
    'dinov3-vit-l16': ('DinoV3VisionTransformer', 'large', 16),
}


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux ``/proc``)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def measure(name: str, impl: str, args: Dict) -> Dict[str, float]:
    """Images/s and extra peak memory of one frozen backbone forward configuration."""
    from mmuss.models import backbones

    torch.manual_seed(0)
    device = torch.device(args['device'])
    cls, arch, patch = MODELS[name]
    model = getattr(backbones, cls)(arch=arch, patch_size=patch, attn_impl=impl).to(device)
    x = torch.randn(args['batch'], 3, args['size'], args['size'], device=device)
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args['amp'] == 'bf16')

    def run(inputs: torch.Tensor) -> None:
        with amp:
            model(inputs)
        if device.type == 'cuda':
            torch.cuda.synchronize()

    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = rss_mib()
    for _ in range(args['warmup']):
        run(x)
    if not args['warmup']:
        run(x[:1, :, :64, :64])  # initialise kernels cheaply
    start = time.perf_counter()
    for _ in range(args['iters']):
        run(x)
    seconds = time.perf_counter() - start
    if device.type == 'cuda':
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return dict(images_per_s=round(args['batch'] * args['iters'] / seconds, 3),
                peak_forward_mib=round(peak, 1))


def measure_in_subprocess(name: str, impl: str, args: Dict) -> Dict[str, float]:
    """Run :func:`measure` in a fresh spawned process and return its result."""
    ctx = mp.get_context('spawn')
    with ctx.Pool(1) as pool:
        return pool.apply(measure, (name, impl, args))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    parser.add_argument('--amp', default='none', choices=('none', 'bf16'),
                        help='bf16 autocast around the forward pass')
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--iters', type=int, default=None,
                        help='timed forward passes (default: 1 on CPU, 20 on CUDA)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed full passes first (default: 0 on CPU, 3 on CUDA)')
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cuda = args.device == 'cuda'
    settings = dict(device=args.device, amp=args.amp, batch=args.batch, size=args.size,
                    iters=args.iters or (20 if cuda else 1),
                    warmup=(3 if cuda else 0) if args.warmup is None else args.warmup)
    results = {}
    for name in args.models:
        paths = {impl: measure_in_subprocess(name, impl, settings)
                 for impl in ('sdpa', 'explicit')}
        paths['sdpa_speedup'] = round(
            paths['sdpa']['images_per_s'] / paths['explicit']['images_per_s'], 3)
        results[name] = paths
    device = torch.cuda.get_device_name() if cuda else f'cpu ({torch.get_num_threads()} threads)'
    print(json.dumps(dict(benchmark='backbone', device=device, torch=torch.__version__,
                          **{k: v for k, v in settings.items() if k != 'device'},
                          results=results)))


if __name__ == '__main__':
    main()
