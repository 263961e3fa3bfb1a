"""Cache PriMaPs mask proposals: ``python tools/precompute_primaps.py CONFIG [options]``.

Runs the config's frozen backbone (``primaps_precompute.model`` when set, else the
config's ``model``) over ``primaps_precompute.dataloader`` (the
training images with the deterministic part of the training pipeline) and
writes one mask-id PNG per image to ``primaps_precompute.out_dir`` (uint8,
255 = no mask, ``1…N`` = masks in extraction order), named as
:class:`LoadPrimapsMasks` expects; ``--out-dir`` defaults to it, which is the
training pipeline's ``proposal_root`` in the shipped configs.

Every PNG is written atomically (temporary file, then rename). The folder's
``manifest.json`` records the config settings that determine the maps (model,
proposer, pre-compute pipeline), the seed, the checkpoint's SHA-256 and the
tool version; it is written once the weights are loaded, and replaced while
the folder holds no map yet. Resuming with different ones is an error naming
each differing entry. On resume, images
whose PNG decodes completely are skipped and any other PNG is recomputed.
The seed (``--seed``, 0) fixes random-init weights, so the maps do not depend
on the run or on the number of processes: with ``--launcher pytorch`` rank
``r`` takes images ``r, r + world_size, …``. A progress bar (rank 0) and the
logs go to stderr.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import barrier
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS
from PIL import Image
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

import mmuss  # noqa: F401  (registers components)
from mmuss.apis.offline_pass import OfflinePass, offline_pass, strided_shard
from mmuss.apis.tool_args import add_launch_args, add_trust_checkpoint_arg, parse_tool_args
from mmuss.apis.tool_output import logs_to_stderr
from mmuss.datasets.cached_artefacts import claim_folder, make_manifest
from mmuss.datasets.transforms.load_primaps_masks import proposal_name, read_proposal
from mmuss.models.utils.images import PixelNormaliser
from mmuss.models.utils.wiring import with_built_sizes
from mmuss.utils.fileio import atomic_write

TOOL_VERSION = 2  # bump when the maps this tool writes change
REGENERATE = 'rerun tools/precompute_primaps.py (it recomputes invalid maps)'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Pre-compute PriMaPs mask-id PNGs')
    parser.add_argument('config', help='PriMaPs-EM config with a `primaps_precompute` section')
    parser.add_argument('--out-dir', help='override primaps_precompute.out_dir')
    parser.add_argument('--checkpoint', help='optional model checkpoint (else init_cfg weights)')
    parser.add_argument('--batch-size', type=int, help='override the pre-compute batch size')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random state (random-init weights); recorded')
    add_trust_checkpoint_arg(parser)
    add_launch_args(parser)
    return parse_tool_args(parser, argv)


def rgb_uint8(raw: List[torch.Tensor], preprocessor, size: tuple) -> torch.Tensor:
    """The batch's raw ``3×H×W`` uint8 images in network channel order, zero-padded to
    ``size`` and stacked."""
    return PixelNormaliser.of(preprocessor).rgb(torch.stack([torch.nn.functional.pad(
        img, (0, size[1] - img.shape[-1], 0, size[0] - img.shape[-2])) for img in raw]))


def write_png(path: str, ids: np.ndarray) -> None:
    """Write ``ids`` (uint8) atomically."""
    atomic_write(path, lambda tmp: Image.fromarray(ids).save(tmp, format='PNG'), '.png')


def is_done(path: str) -> bool:
    """Whether ``path`` is a complete mask-id PNG (it exists and decodes fully)."""
    if not osp.isfile(path):
        return False
    try:
        read_proposal(path)
    except ValueError as exc:
        print_log(f'Recomputing {path}: {exc}', logger='current')
        return False
    return True


def main(argv: Optional[List[str]] = None) -> int:
    """Pre-compute the proposals; returns how many PNGs this rank wrote."""
    args = parse_args(argv)
    logs_to_stderr()
    with offline_pass(args, args.seed) as run:
        return write_maps(args, run)


def write_maps(args: argparse.Namespace, run: OfflinePass) -> int:
    """Write this rank's missing maps; returns how many."""
    cfg, rank, world_size, device = run.cfg, run.rank, run.world_size, run.device
    if 'primaps_precompute' not in cfg:
        raise KeyError(f'{args.config} has no `primaps_precompute` section (out_dir, proposer, '
                       f'dataloader); see configs/primaps_em/.')
    spec = cfg.primaps_precompute
    out_dir = args.out_dir or spec['out_dir']
    loader_cfg = dict(spec['dataloader'])
    model_cfg = spec.get('model', cfg.model)  # PriMaPs-EM on STEGO/HP/CAUSE: the plain backbone
    dataset = DATASETS.build(loader_cfg['dataset'])
    # Weights before the folder is claimed: a failed download leaves no manifest behind.
    model = MODELS.build(model_cfg)
    model.init_weights()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(device).eval()
    proposer = MODELS.build(spec['proposer'])

    settings = dict(model=with_built_sizes(model_cfg, model), proposer=spec['proposer'],
                    pipeline=loader_cfg['dataset'].get('pipeline'))
    manifest = make_manifest('precompute_primaps', TOOL_VERSION, args.config, settings,
                             args.checkpoint, args.seed)
    if rank == 0:
        claim_folder(out_dir, manifest, REGENERATE)
    barrier()
    if rank != 0:
        claim_folder(out_dir, manifest, REGENERATE)
    shard = strided_shard(len(dataset), rank, world_size)  # fixed before any rank writes
    mine = [i for i in shard if not is_done(
        osp.join(out_dir, proposal_name(dataset.get_data_info(i)['img_path'])))]
    print_log(f'PriMaPs pre-compute: rank {rank} of {world_size} has {len(shard)} of '
              f'{len(dataset)} images, {len(shard) - len(mine)} done, takes {len(mine)}.',
              logger='current')
    head = model.decode_head
    loader = DataLoader(Subset(dataset, mine),
                        batch_size=args.batch_size or loader_cfg.get('batch_size', 16),
                        num_workers=loader_cfg.get('num_workers', 0), collate_fn=pseudo_collate)
    written = 0
    with torch.no_grad():
        for batch in tqdm(loader, desc='PriMaPs proposals', unit='batch', file=sys.stderr,
                          disable=rank != 0, dynamic_ncols=True):
            data = model.data_preprocessor(batch, False)
            feats = head.select_feature(model.extract_feat(data['inputs']))
            samples = data['data_samples']
            paths = [s.img_path for s in samples]
            size = tuple(data['inputs'].shape[-2:])
            images = rgb_uint8(batch['inputs'], model.data_preprocessor, size).to(device)
            ids = proposer(feats, images=images, size=size, names=paths)
            for sample, path, ids_i in zip(samples, paths, ids.cpu().numpy()):
                height, width = sample.img_shape[:2]
                write_png(osp.join(out_dir, proposal_name(path)), ids_i[:height, :width])
                written += 1
    print_log(f'PriMaPs pre-compute: rank {rank} wrote {written} mask-id maps to {out_dir}.',
              logger='current')
    return written


if __name__ == '__main__':
    main()

