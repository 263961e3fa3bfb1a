"""Initialise a head's prototypes from a sample of training features."""
from itertools import islice
from typing import Iterator, Optional

import torch
from mmengine.dist import broadcast, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch.utils.data import DataLoader

from mmuss.models.utils import flatten_pixels, subsample_rows


@HOOKS.register_module()
class PrototypeInitHook(Hook):
    """Set ``decode_head.<probe>`` from the code of a few training batches.

    Before the first iteration (skipped when resuming: the prototypes then come
    from the checkpoint) the hook runs the frozen backbone and the head (in
    eval mode) over ``num_batches`` training batches, samples at most
    ``max_samples`` pixels, and calls ``probe.init_from_samples`` — PCA
    directions (PriMaPs' initialisation, spec primaps A.5) or spherical
    k-means centres. Rank 0's prototypes are broadcast so every rank starts
    identical.

    Args:
        method: ``'pca'`` or ``'kmeans'``.
        num_batches: Training batches to sample from.
        max_samples: Pixels kept (uniformly at random) for the fit.
        probe: Attribute of the decode head holding the probe.
        seed: Seed of the pixel subsampling and of k-means.
    """

    priority = 'LOW'

    def __init__(self, method: str = 'pca', num_batches: int = 8,
                 max_samples: Optional[int] = 200_000, probe: str = 'cluster_probe',
                 seed: int = 0) -> None:
        if method not in ('pca', 'kmeans'):
            raise ValueError(f"PrototypeInitHook method must be 'pca' or 'kmeans', got {method!r}.")
        self.method = method
        self.num_batches = num_batches
        self.max_samples = max_samples
        self.probe = probe
        self.seed = seed

    def sample_batches(self, train_loader: DataLoader) -> Iterator[dict]:
        """``num_batches`` seeded random batches of the training set.

        A separate loader: mmengine's ``InfiniteSampler`` shares one index
        generator, which iterating the runner's own loader would consume.
        """
        loader = DataLoader(
            train_loader.dataset, batch_size=train_loader.batch_size, shuffle=True,
            collate_fn=train_loader.collate_fn, num_workers=0,
            generator=torch.Generator().manual_seed(self.seed))
        return islice(loader, self.num_batches)

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        head = model.decode_head
        probe = getattr(head, self.probe, None)
        if probe is None or not hasattr(probe, 'init_from_samples'):
            raise AttributeError(f'{type(head).__name__}.{self.probe} is not a prototype probe '
                                 f'with init_from_samples().')
        was_training = head.training
        head.eval()
        rows = []
        with torch.no_grad():
            for batch in self.sample_batches(runner.train_dataloader):
                data = model.data_preprocessor(batch, False)
                rows.append(flatten_pixels(head(model.extract_feat(data['inputs']))).cpu())
        head.train(was_training)
        if not rows:
            raise RuntimeError('PrototypeInitHook found no training batch to sample from.')
        gen = torch.Generator().manual_seed(self.seed)
        samples = subsample_rows(torch.cat(rows), self.max_samples, gen)
        probe.init_from_samples(samples, self.method, seed=self.seed)
        _, world_size = get_dist_info()
        if world_size > 1:
            for param in probe.parameters():
                broadcast(param.data, src=0)
        print_log(f'PrototypeInitHook: {self.method} init of {self.probe} from '
                  f'{samples.shape[0]} pixels of {len(rows)} batches.', logger='current')
