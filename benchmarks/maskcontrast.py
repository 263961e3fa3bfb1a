"""Time of one MaskContrast training iteration, split into its parts.

Prints ONE JSON line. The model is the supervised-saliency VOC config
(dilated ResNet-50, output stride 8, DeepLab-v3 head, 32-d embedding; random
weights, conv1/bn1/layer1/layer2 frozen), at the reference's 224×224 crops with
batch 8 by default (the reference runs 32 per GPU). One untimed warm-up
iteration at 64×64 precedes ``--iters`` timed ones; the figures are means
over the timed iterations, in seconds:

- ``query_forward_s``: query encoder forward (backbone + head, embedding
  and saliency upsampled to the crop);
- ``key_forward_s``: momentum update plus key encoder forward and the
  key-view mask prototypes (no autograd);
- ``loss_s``: contrastive + saliency loss;
- ``backward_step_s``: backward pass and SGD step;
- ``total_s``: all of the above plus the queue update.

Usage::

    python benchmarks/maskcontrast.py                    # CPU, batch 8, ~1-2 min
    python benchmarks/maskcontrast.py --device cuda --batch 32
"""
import argparse
import json
import time
from pathlib import Path
from typing import Callable, Dict

import torch
import torch.nn.functional as F

from mmuss.models.losses.maskcontrast_loss import mask_prototypes
from mmuss.models.utils.ema import update_teachers

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'configs' / 'maskcontrast' / 'maskcontrast-sup-sal_resnet50-d8_40e_voc-512.py'


def build_model(device: torch.device) -> torch.nn.Module:
    """The config's model with random weights, in train mode."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.to(device).train()


def synthetic_views(batch: int, size: int, device: torch.device):
    """Normalised random views and centred square saliency masks covering 1/4 of each crop."""
    gen = torch.Generator().manual_seed(0)
    query = torch.randn(batch, 3, size, size, generator=gen).to(device)
    key = torch.randn(batch, 3, size, size, generator=gen).to(device)
    mask = torch.zeros(batch, size, size, dtype=torch.long, device=device)
    mask[:, size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
    return query, key, mask


def timed(fn: Callable, sync: Callable) -> tuple:
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return out, time.perf_counter() - start


def iteration(model, optim, query, key, mask, sync) -> Dict[str, float]:
    """One training step of :class:`MaskContrast`, part by part."""
    (emb, sal), t_query = timed(lambda: model.query_outputs(query), sync)

    def key_branch():
        with torch.no_grad():
            update_teachers(model)
            return mask_prototypes(model.key_embeddings(key), mask)
    protos, t_key = timed(key_branch, sync)
    losses, t_loss = timed(lambda: model.loss_module(F.normalize(emb, dim=1), sal, mask, protos,
                                                     model.queue.clone()), sync)

    def step():
        optim.zero_grad()
        (losses['loss_contrastive'] + losses['loss_saliency']).backward()
        optim.step()
    _, t_step = timed(step, sync)
    _, t_enqueue = timed(lambda: model.enqueue(protos), sync)
    return dict(query_forward_s=t_query, key_forward_s=t_key, loss_s=t_loss,
                backward_step_s=t_step, total_s=t_query + t_key + t_loss + t_step + t_enqueue)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--iters', type=int, default=1)
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    torch.manual_seed(0)
    model = build_model(device)
    optim = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.004,
                            momentum=0.9, weight_decay=1e-4)
    iteration(model, optim, *synthetic_views(args.batch, 64, device), sync)
    views = synthetic_views(args.batch, args.size, device)
    runs = [iteration(model, optim, *views, sync) for _ in range(args.iters)]
    result = {k: round(sum(r[k] for r in runs) / len(runs), 3) for k in runs[0]}
    print(json.dumps(dict(benchmark='maskcontrast_train_iteration', device=str(device),
                          threads=torch.get_num_threads(), batch=args.batch,
                          crop=args.size, iters=args.iters, **result)))


if __name__ == '__main__':
    main()
