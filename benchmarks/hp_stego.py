"""Time and peak memory of one HP loss and one STEGO loss (forward + backward).

Prints ONE JSON line. Each case runs in its own fresh spawned subprocess, one
after the other, so peak-memory readings do not mix:

- ``hp_chunked``: :class:`HiddenPositiveLoss` with anchors in chunks of
  ``--chunk`` (784 = one 28×28 image) and gradient checkpointing per chunk;
- ``hp_unchunked``: the same loss over all ``N × N`` pairs at once (skipped,
  with the reason, when its estimated memory exceeds ``--max-unchunked-gib``);
- ``stego``: :class:`StegoCorrelationLoss` (11×11 points, 5 negatives).

Shapes follow the hyper-parameters of docs/methods/hp.md and stego.md: HP batch 64 of 28×28 patches
(N = 50,176), D = 512, C_f = 384, pool 2048, ρ = 0.02; STEGO batch 16, 28×28,
D = 70. The CPU default uses ``--hp-batch 8`` (N = 6,272) so the unchunked
case fits and the run stays near a minute; pass ``--hp-batch 64`` on a GPU.
Random inputs, fp32 unless ``--amp fp16`` (CUDA autocast, as HP trains).

``peak_mib``: memory the computation adds on top of its inputs. CUDA:
``max_memory_allocated`` minus the allocation before; CPU: the largest
resident set size sampled every 2 ms during the computation minus the
resident size before (after a small untimed warm-up).

Usage::

    python benchmarks/hp_stego.py                              # CPU, ~1 min
    python benchmarks/hp_stego.py --device cuda --hp-batch 64 --amp fp16
"""
import argparse
import json
import multiprocessing as mp
import os
import resource
import threading
import time
from typing import Dict

import torch


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux ``/proc``)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


class RssSampler(threading.Thread):
    """Samples the resident set size every ``interval`` seconds and keeps the maximum.

    ``getrusage``'s ``ru_maxrss`` is a lifetime maximum (imports and warm-up
    included), so the CPU peak of one computation is sampled instead.
    """

    def __init__(self, interval: float = 0.002) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = rss_mib()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mib())
            time.sleep(self.interval)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return max(self.peak, rss_mib())


def measure(case: str, args: Dict) -> Dict[str, float]:
    """Seconds and extra peak MiB of one forward + backward of ``case``."""
    import torch.nn.functional as F

    from mmuss.models.losses import HiddenPositiveLoss, StegoCorrelationLoss

    torch.manual_seed(0)
    torch.set_num_threads(args['threads'])
    device = torch.device(args['device'])
    side = args['grid']
    if case == 'stego':
        b = args['stego_batch']
        inputs = [torch.randn(b, c, side, side, device=device, requires_grad=grad)
                  for c, grad in ((384, False), (70, True), (384, False), (70, True))]
        loss_fn = StegoCorrelationLoss()

        def run(size=b):
            return sum(loss_fn(*(x[:size] for x in inputs)).values())
    else:
        n = side * side
        num = args['hp_batch'] * n
        feats, ema = torch.randn(num, 384, device=device), torch.randn(num, 512, device=device)
        proj = torch.randn(num, 512, device=device, requires_grad=True)
        local = torch.randn(num, 512, device=device, requires_grad=True)
        pool_ag = F.normalize(torch.randn(2048, 384, device=device), dim=1)
        pool_sp = F.normalize(torch.randn(2048, 512, device=device), dim=1)
        loss_fn = HiddenPositiveLoss(temperature=0.8, neg_ratio=0.02,
                                     chunk_size=args['chunk'] if case == 'hp_chunked' else None)

        def run(size=num):
            return loss_fn(feats[:size], ema[:size], proj[:size], local[:size], pool_ag, pool_sp,
                           0.5, n)['loss_hp']

    amp = torch.autocast('cuda', dtype=torch.float16,
                         enabled=args['amp'] == 'fp16' and device.type == 'cuda')
    with amp:  # warm-up on a small slice (kernel initialisation), not timed
        run(2 if case == 'stego' else 2 * side * side).backward()
    for x in (proj, local) if case != 'stego' else inputs:
        x.grad = None
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = rss_mib()
        sampler = RssSampler()
        sampler.start()
    start = time.perf_counter()
    with amp:
        loss = run()
    loss.backward()
    if device.type == 'cuda':
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if device.type == 'cuda':
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = sampler.stop() - base
    return dict(seconds=round(seconds, 3), peak_mib=round(peak, 1), loss=round(loss.item(), 4))


def measure_in_subprocess(case: str, args: Dict) -> Dict[str, float]:
    """Run :func:`measure` in a fresh spawned process.

    On CPU the child gets a fixed glibc mmap threshold (64 KiB): large tensors
    are then mapped and unmapped individually, so the resident size tracks the
    live tensors instead of what the allocator keeps after they are freed.
    """
    os.environ.setdefault('MALLOC_MMAP_THRESHOLD_', '65536')
    with mp.get_context('spawn').Pool(1) as pool:
        return pool.apply(measure, (case, args))


def unchunked_estimate_gib(num: int) -> float:
    """Rough autograd footprint of the unchunked loss: ~12 float32 and 6 bool N×N matrices."""
    return num * num * (12 * 4 + 6) / 2**30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    parser.add_argument('--amp', default='none', choices=('none', 'fp16'))
    parser.add_argument('--hp-batch', type=int, default=None,
                        help='HP images per batch (default: 8 on CPU, 64 on CUDA)')
    parser.add_argument('--stego-batch', type=int, default=16)
    parser.add_argument('--grid', type=int, default=28, help='feature grid side (224 px / 8)')
    parser.add_argument('--chunk', type=int, default=784, help='HP anchors per chunk')
    parser.add_argument('--max-unchunked-gib', type=float, default=8.0)
    parser.add_argument('--threads', type=int, default=2)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cuda = args.device == 'cuda'
    settings = dict(device=args.device, amp=args.amp,
                    hp_batch=args.hp_batch or (64 if cuda else 8), stego_batch=args.stego_batch,
                    grid=args.grid, chunk=args.chunk, threads=args.threads)
    num = settings['hp_batch'] * args.grid ** 2
    results = dict(hp_chunked=measure_in_subprocess('hp_chunked', settings))
    estimate = unchunked_estimate_gib(num)
    if estimate <= args.max_unchunked_gib:
        results['hp_unchunked'] = measure_in_subprocess('hp_unchunked', settings)
        results['hp_chunked_time_ratio'] = round(
            results['hp_chunked']['seconds'] / results['hp_unchunked']['seconds'], 3)
        results['hp_chunked_memory_ratio'] = round(
            results['hp_chunked']['peak_mib'] / results['hp_unchunked']['peak_mib'], 4)
    else:
        results['hp_unchunked'] = f'skipped: ~{estimate:.0f} GiB estimated > ' \
                                  f'--max-unchunked-gib {args.max_unchunked_gib}'
    results['stego'] = measure_in_subprocess('stego', settings)
    device = torch.cuda.get_device_name() if cuda else f'cpu ({args.threads} threads)'
    print(json.dumps(dict(benchmark='hp_stego', device=device, torch=torch.__version__,
                          hp_patches=num, **{k: v for k, v in settings.items() if k != 'device'},
                          results=results)))


if __name__ == '__main__':
    main()
