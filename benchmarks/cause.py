"""Time and peak memory of one CAUSE step-2 iteration, relative to the backbone forward.

Prints ONE JSON line. Measured side by side in one process:

- ``backbone``: the frozen DINO forward (``torch.no_grad``) of a batch;
- ``head``: for each of ``--heads`` and ``--bank-fill``, one
  :meth:`CauseHead.loss` (EMA code, student code, contrastive loss against the
  batch and the concept bank — the given fraction of its 2048 × 100 slots
  used, 1.0 = full, the worst case; 0 = the first iterations — modularity and
  linear probes, bank update) plus backward.

Reference sizes (``train_front_door_tr.py``): batch 16, 320×320, DINO ViT-B/8
(1600 patches), K = 2048, D = 90, P = 2048. Random weights and inputs. The
backbone and each head step are timed once (``--warmup`` adds an untimed
backbone forward and head step before each: on CUDA the first call also
pays for the library and kernel start-up).

``peak_mib``: tensor memory the computation adds on top of what existed
before it. CUDA: ``max_memory_allocated`` minus the allocation before; CPU:
the running sum of torch's allocations and frees in a second, untimed pass
recorded by ``torch.profiler`` (``profile_memory``), at its largest — the
same quantity (the resident set size would hide memory the allocator reuses).

``--flops`` adds, from one extra untimed pass of each under
``torch.utils.flop_counter.FlopCounterMode``, the matrix-product and
attention FLOPs (``*_gflop``) and their ratio: a machine-independent
measure, unlike the times on a shared CPU.

Usage::

    python benchmarks/cause.py                       # CPU, reference sizes (minutes)
    python benchmarks/cause.py --device cuda --amp --warmup   # GPU, autocast as the reference
"""
import argparse
import itertools
import json
import time

import torch

BACKBONES = {
    'dino-vit-s8': dict(type='DinoVisionTransformer', arch='small', patch_size=8),
    'dino-vit-b8': dict(type='DinoVisionTransformer', arch='base', patch_size=8),
    'dinov2-vit-b14': dict(type='DinoV2VisionTransformer', arch='base', patch_size=14),
}


def measure(fn, device: torch.device):
    """``(seconds, extra peak MiB)`` of ``fn()``."""
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        start = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - before) / 2**20
        return out, time.perf_counter() - start, peak
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    return out, seconds, cpu_peak_mib(fn)


def cpu_peak_mib(fn) -> float:
    """Largest extra tensor memory (MiB) of ``fn()`` on the CPU, from profiler memory events."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == '[memory]'),
                    key=lambda e: e.start_ns())
    return max(itertools.accumulate((e.nbytes() for e in events), initial=0)) / 2**20


def count_gflop(fn) -> float:
    """GFLOP of the matrix products and attention ``fn()`` runs.

    torch's counter knows the CUDA attention kernels; the CPU one is added
    with the same formulas.
    """
    from torch.utils import flop_counter as fc

    def cpu_attention(query, key, value, *args, **kwargs):
        return fc.sdpa_flop_count(query, key, value)

    def cpu_attention_backward(grad_out, query, key, value, *args, **kwargs):
        return fc.sdpa_backward_flop_count(grad_out, query, key, value)

    aten = torch.ops.aten
    mapping = {aten._scaled_dot_product_flash_attention_for_cpu: cpu_attention,
               aten._scaled_dot_product_flash_attention_for_cpu_backward: cpu_attention_backward}
    with fc.FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--backbone', default='dino-vit-b8', choices=sorted(BACKBONES))
    parser.add_argument('--heads', nargs='+', default=['tr', 'mlp'], choices=['tr', 'mlp'])
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--bank-fill', type=float, nargs='+', default=[1.0, 0.0],
                        help='fractions of the concept-bank slots holding keys')
    parser.add_argument('--warmup', action='store_true',
                        help='one untimed backbone forward and head step before each timed one')
    parser.add_argument('--amp', action='store_true', help='CUDA fp16 autocast')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--flops', action='store_true',
                        help='also count FLOPs in one extra untimed pass of each')
    args = parser.parse_args()

    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    import mmuss  # noqa: F401
    from mmuss.models.utils.backbone_output import BackboneOutput

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    backbone = MODELS.build(BACKBONES[args.backbone]).to(device).eval()
    dims = backbone.embed_dims if hasattr(backbone, 'embed_dims') else 768
    patch = BACKBONES[args.backbone]['patch_size']
    side = args.size // patch
    images = torch.randn(args.batch, 3, args.size, args.size, device=device)
    samples = []
    for _ in range(args.batch):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 27, (1, args.size, args.size),
                                                         device=device))
        samples.append(sample)
    autocast = torch.autocast('cuda', dtype=torch.float16, enabled=args.amp)

    def backbone_forward():
        with torch.no_grad(), autocast:
            return backbone(images)

    if args.warmup:
        backbone_forward()
    feats, backbone_s, backbone_mib = measure(backbone_forward, device)
    backbone_gflop = count_gflop(backbone_forward) if args.flops else None
    inputs = BackboneOutput([f.float() for f in feats])
    results = {}
    for kind in args.heads:
        head_cfg = dict(type='CauseTRHead' if kind == 'tr' else 'CauseMLPHead',
                        in_channels=dims, channels=90, num_classes=27)
        if kind == 'tr':
            head_cfg['num_queries'] = side * side
        head = MODELS.build(head_cfg).to(device).train()
        head.set_clusterbook(torch.randn(2048, dims, device=device))
        for fill in args.bank_fill:
            bank = head.bank
            bank.keys.copy_(torch.nn.functional.normalize(
                torch.randn_like(bank.keys, dtype=torch.float), dim=-1).half())
            keys = round(fill * bank.capacity) * bank.keys.shape[0]

            def head_step():
                bank.length.fill_(round(fill * bank.capacity))  # each pass sees this fill
                head.zero_grad(set_to_none=True)
                with autocast:
                    losses = head.loss(inputs, {}, samples)
                sum(losses.values()).backward()

            if args.warmup:
                measure(head_step, device)
            _, seconds, mib = measure(head_step, device)
            result = dict(
                head_step_s=round(seconds, 3), time_ratio=round(seconds / backbone_s, 3),
                head_peak_mib=round(mib, 1), memory_ratio=round(mib / max(backbone_mib, 1e-6), 3))
            if args.flops:
                gflop = count_gflop(head_step)
                result.update(head_gflop=round(gflop, 1),
                              flop_ratio=round(gflop / backbone_gflop, 3))
            results[f'{kind}_bank{keys}'] = result
    print(json.dumps(dict(
        device=str(device), backbone=args.backbone, batch=args.batch, size=args.size,
        amp=args.amp, threads=args.threads, backbone_s=round(backbone_s, 3),
        backbone_peak_mib=round(backbone_mib, 1),
        **(dict(backbone_gflop=round(backbone_gflop, 1)) if args.flops else {}), heads=results)))


if __name__ == '__main__':
    main()
