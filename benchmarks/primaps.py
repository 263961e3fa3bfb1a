"""PriMaPs proposals: batched function vs a per-image ``pca_lowrank`` loop (one JSON line).

Both run the same algorithm (docs/methods/primaps_em.md eqs. 1–7, with the sign
rule of its quirk Q5) up to the mask-id map at feature resolution, i.e. before
the CRF, on 16 region-structured 40×40×384 feature maps, single-threaded and
with all threads. The loop is the straightforward re-statement: one image at a
time, ``torch.pca_lowrank(q=3, niter=100)`` per mask. ``identical`` reports
whether every mask-id map agrees.

Optionally (``--em``) one PriMaPs-EM training iteration's head time (E-step,
vote, focal loss, backward, EMA) is timed against the frozen backbone forward
(DINO ViT-S/8, 320×320, batch 8, random weights).

    python benchmarks/primaps.py [--images 16] [--em]
"""
import argparse
import json
import os
import time
from typing import Callable, List

import torch
import torch.nn.functional as F
from torch import Tensor

from mmuss.models.utils.ema import update_teachers
from mmuss.models.decode_heads.primaps.masks import (mask_ids_from_scores, median_filter3x3,
                                        primaps_mask_ids)


def region_features(num: int, dims: int = 384, size: int = 40, seed: int = 0) -> Tensor:
    """``num×dims×size×size`` maps: 4–9 Voronoi regions, own means, a shared offset, noise."""
    gen = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    shared = torch.randn(dims, generator=gen)
    maps = []
    for _ in range(num):
        regions = int(torch.randint(4, 10, (1, ), generator=gen))
        seeds = torch.rand(regions, 2, generator=gen) * size
        dist = (yy[None] - seeds[:, 0, None, None])**2 + (xx[None] - seeds[:, 1, None, None])**2
        label = dist.argmin(0)
        means = shared + 1.5 * torch.randn(regions, dims, generator=gen)
        noise = 0.6 * torch.randn(size, size, dims, generator=gen)
        maps.append((means[label] + noise).permute(2, 0, 1))
    return torch.stack(maps)


def loop_mask_ids(feat: Tensor, threshold: float = 0.4, coverage: float = 0.95,
                  gain: float = 10.0) -> Tensor:
    """One image, the plain way: ``D×h×w`` features → ``h×w`` uint8 mask ids."""
    dims, height, width = feat.shape
    rows = feat.reshape(dims, -1).T
    normed = F.normalize(rows, dim=1)
    avail = torch.ones(height * width, dtype=torch.bool)
    masks: List[Tensor] = []
    while (~avail).float().mean() < coverage:
        pos = avail.nonzero()[:, 0]
        _, _, v = torch.pca_lowrank(rows[pos], q=3, niter=100)
        u = v[:, 0]
        if float(rows[pos].var(0).sum()) == 0:
            break
        cos = normed[pos] @ u
        total = cos.max() + cos.min()
        sign = total.sign() if total != 0 else u[u.abs().argmax()].sign()
        cos = cos * (sign if sign != 0 else 1)
        best = int(cos.argmax())
        anchor = normed[pos[best]]
        sim = torch.zeros(height * width)
        sim[pos] = normed[pos] @ anchor
        if cos[best] <= 0 or sim.max() <= 0:
            break
        peak = sim.max()
        sim = torch.where(sim < threshold * peak, 0.0, sim) / peak
        masks.append(sim)
        avail &= sim <= 0
    if not masks:
        return torch.full((height, width), 255, dtype=torch.uint8)
    stack = torch.stack(masks).reshape(1, -1, height, width)
    binary = (gain * median_filter3x3(stack)).clamp(0, 1)[0]
    level = binary[binary > 0].mean() if (binary > 0).any() else torch.tensor(1.0)
    background = (level - binary.sum(0)).clamp(0, 1)
    logits = torch.cat([background[None], binary]).log_softmax(0)
    return mask_ids_from_scores(logits[None])[0]


def rate(fn: Callable[[], Tensor], count: int, repeats: int = 1) -> tuple:
    """(proposals per second, last output) of ``fn`` producing ``count`` maps."""
    out = fn()
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return count * repeats / (time.perf_counter() - start), out


def proposal_figures(feats: Tensor, threads: int) -> dict:
    torch.set_num_threads(threads)
    batched_rate, batched = rate(lambda: primaps_mask_ids(feats), len(feats), repeats=2)

    def loop() -> Tensor:
        torch.manual_seed(0)
        return torch.stack([loop_mask_ids(f) for f in feats])

    loop_rate, looped = rate(loop, len(feats))
    return dict(batched_per_s=round(batched_rate, 2), loop_per_s=round(loop_rate, 2),
                speedup=round(batched_rate / loop_rate, 1),
                identical=bool(torch.equal(batched, looped)),
                masks_per_image=round(sum(len(set(m.unique().tolist()) - {255})
                                          for m in batched) / len(batched), 2))


def em_fraction(threads: int, repeats: int = 3) -> dict:
    """Head time of one EM iteration / backbone forward time (ViT-S/8, 320², batch 8).

    The head iteration is everything but the backbone: θ_M E-step and vote, θ_R
    focal loss on the student features, linear probe, backward, Adam step and a
    θ_M EMA update, with cached mask ids (random weights and images, so the
    mask ids come from region-structured feature maps).
    """
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    from mmuss.models.utils import BackboneOutput
    torch.set_num_threads(threads)
    backbone = MODELS.build(dict(type='DinoVisionTransformer', arch='small', patch_size=8)).eval()
    head = MODELS.build(dict(type='PrimapsEMHead', in_channels=384, num_classes=27))
    head.start_em()
    optimizer = torch.optim.Adam(head.parameters(), lr=5e-3)
    images = torch.randn(8, 3, 320, 320)
    with torch.no_grad():
        backbone(images[:1])
        start = time.perf_counter()
        clean = backbone(images)
        backbone_s = time.perf_counter() - start
        student = backbone(images.flip(-1))
    # random weights give unstructured features; take masks of region-structured ones
    ids = primaps_mask_ids(region_features(len(images)), size=(320, 320))
    samples = []
    for i in range(len(images)):
        sample = SegDataSample()
        sample.gt_primaps = PixelData(data=ids[i:i + 1].long())
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 27, (1, 320, 320)))
        samples.append(sample)
    inputs = BackboneOutput(list(clean))
    views = {'img_student': BackboneOutput(list(student))}

    def step() -> None:
        update_teachers(head)
        optimizer.zero_grad()
        losses = head.loss(inputs, views, samples)
        sum(losses.values()).backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    head_s = (time.perf_counter() - start) / repeats
    return dict(threads=threads, backbone_forward_s=round(backbone_s, 3),
                em_head_s=round(head_s, 3), em_fraction=round(head_s / backbone_s, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument('--em', action='store_true', help='also time one PriMaPs-EM iteration')
    args = parser.parse_args()
    feats = region_features(args.images)
    all_threads = os.cpu_count() or 1
    result = dict(benchmark='primaps', images=args.images, shape=[384, 40, 40],
                  single_thread=proposal_figures(feats, 1),
                  all_threads=dict(threads=all_threads, **proposal_figures(feats, all_threads)))
    if args.em:
        result['em_iteration'] = em_fraction(all_threads)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
