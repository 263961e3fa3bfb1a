"""Initialise a head's prototypes from the code of a few training batches."""
import logging
import sys
from itertools import islice
from typing import Iterator, Optional

import torch
from mmengine.dist import broadcast, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm import tqdm

from mmuss.apis.inference import model_patch_size
from mmuss.datasets.transforms.crop_to_patch_multiple import patch_multiple_shape
from mmuss.models.utils import (feature_moments, flatten_pixels,
                                principal_directions_from_moments, spherical_kmeans_centres,
                                subsample_rows)
from mmuss.utils import preserved_rng_state
from mmuss.utils.model_wrapper import unwrap_model

RESIZE_FIX = ('remove it from the training set, or resize or crop the training images to one '
              'size in train_pipeline (e.g. RandomResize + RandomCrop)')


def check_batch_images(batch: dict, patch_size: Optional[int]) -> None:
    """``ValueError`` naming the file when a batch image is smaller than one patch, or the
    files and sizes when the batch mixes sizes (the hook reads unpadded batches)."""
    shapes = [tuple(image.shape[-2:]) for image in batch['inputs']]
    samples = batch.get('data_samples') or [None] * len(shapes)
    paths = [getattr(sample, 'metainfo', {}).get('img_path', f'image {i}')
             for i, sample in enumerate(samples)]
    for path, (height, width) in zip(paths, shapes, strict=True):
        if patch_size:
            try:
                patch_multiple_shape(height, width, patch_size)
            except ValueError as exc:
                raise ValueError(f'{path}: {exc} PrototypeInitHook cannot use it: '
                                 f'{RESIZE_FIX}.') from None
    if len(set(shapes)) > 1:
        sizes = ', '.join(f'{path} {h}x{w}' for path, (h, w) in zip(paths, shapes, strict=True))
        raise ValueError(f'PrototypeInitHook: a training batch mixes image sizes ({sizes}); '
                         f'{RESIZE_FIX}.')


@HOOKS.register_module()
class PrototypeInitHook(Hook):
    """Set ``decode_head.<probe>`` from the code of ``num_batches`` training batches.

    Before the first iteration (skipped when resuming: the prototypes then come
    from the checkpoint) the hook runs the frozen backbone and the head (in
    eval mode) over seeded random training batches and sets the probe's
    prototypes to

    - ``'pca'``: the principal directions of *all* their pixels — PriMaPs'
      initialisation (docs/methods/baseline.md#hyper-parameters: 93 batches of 32) — from streamed
      float64 moments, so memory stays ``D×D`` whatever the sample size;
    - ``'kmeans'``: spherical k-means centres of ``max_samples`` pixels drawn
      evenly from the batches.

    Rank 0's prototypes are broadcast so every rank starts identical. The
    global random states are restored afterwards (:func:`preserved_rng_state`), so
    the data pipeline's random draws (flips, crops) of the training run do
    not depend on whether the hook ran — a resumed run, which skips it,
    stays identical to an uninterrupted one.

    Args:
        method: ``'pca'`` or ``'kmeans'``.
        num_batches: Training batches to read.
        max_samples: Pixels kept for ``'kmeans'``.
        probe: Attribute of the decode head holding a probe with
            ``num_clusters`` and ``set_prototypes``.
        seed: Seed of the batch order, the pixel subsampling and k-means.
    """

    priority = 'LOW'

    def __init__(self, method: str = 'pca', num_batches: int = 8, max_samples: int = 100_000,
                 probe: str = 'cluster_probe', seed: int = 0) -> None:
        if method not in ('pca', 'kmeans'):
            raise ValueError(f"PrototypeInitHook method must be 'pca' or 'kmeans', got {method!r}.")
        self.method = method
        self.num_batches = num_batches
        self.max_samples = max_samples
        self.probe = probe
        self.seed = seed

    def sample_batches(self, train_loader: DataLoader) -> Iterator[dict]:
        """``num_batches`` seeded random batches of the training set.

        A separate loader with the training loader's batch size and
        ``drop_last`` (mmengine's ``InfiniteSampler`` shares one index
        generator, which iterating the runner's own loader would consume);
        fewer batches when the loader has fewer. A progress bar on stderr (rank 0).
        """
        loader = DataLoader(
            train_loader.dataset, batch_size=train_loader.batch_size, shuffle=True,
            drop_last=train_loader.drop_last, collate_fn=train_loader.collate_fn, num_workers=0,
            generator=torch.Generator().manual_seed(self.seed))
        rank, _ = get_dist_info()
        return tqdm(islice(loader, self.num_batches), total=min(self.num_batches, len(loader)),
                    desc=f'PrototypeInitHook ({self.method})', unit='batch', file=sys.stderr,
                    disable=rank != 0, dynamic_ncols=True)

    def fit(self, codes: Iterator[Tensor], num: int) -> Tensor:
        """``num`` prototypes from a stream of ``B×D×h×w`` codes."""
        gen = torch.Generator().manual_seed(self.seed)
        count, total, outer, rows = 0, 0, 0, []
        for code in codes:
            pixels = flatten_pixels(code).cpu()
            if self.method == 'pca':
                n, s1, s2 = feature_moments(pixels)
                count, total, outer = count + n, total + s1, outer + s2
            else:
                rows.append(subsample_rows(pixels, -(-self.max_samples // self.num_batches), gen))
        if self.method == 'pca':
            if count == 0:
                raise RuntimeError('PrototypeInitHook found no training batch to read.')
            return principal_directions_from_moments(count, total, outer, num)
        if not rows:
            raise RuntimeError('PrototypeInitHook found no training batch to read.')
        return spherical_kmeans_centres(torch.cat(rows), num, seed=self.seed)

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        model = unwrap_model(runner.model)
        head = model.decode_head
        probe = getattr(head, self.probe, None)
        if probe is None or not hasattr(probe, 'set_prototypes'):
            raise AttributeError(f'{type(head).__name__}.{self.probe} is not a prototype probe '
                                 f'with set_prototypes().')
        patch_size = model_patch_size(model)
        was_training = head.training
        head.eval()
        batches_read = 0

        def codes() -> Iterator[Tensor]:
            nonlocal batches_read
            for batch in self.sample_batches(runner.train_dataloader):
                check_batch_images(batch, patch_size)
                batches_read += 1
                yield head(model.extract_feat(model.data_preprocessor(batch, False)['inputs']))

        with torch.no_grad(), preserved_rng_state():
            probe.set_prototypes(self.fit(codes(), probe.num_clusters))
        head.train(was_training)
        _, world_size = get_dist_info()
        if world_size > 1:
            for param in probe.parameters():
                broadcast(param.data, src=0)
        short = batches_read < self.num_batches
        print_log(f'PrototypeInitHook: {self.method} initialisation of {self.probe} from '
                  f'{batches_read} batches' + (f' (asked for {self.num_batches}; the training '
                                               f'set has no more).' if short else '.'),
                  logger='current', level=logging.WARNING if short else logging.INFO)
