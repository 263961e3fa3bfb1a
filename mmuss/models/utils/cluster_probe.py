"""Cosine cluster probe: online spherical k-means over per-pixel features."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .precision import float32_precision


def cosine_cluster_scores(feats: Tensor, prototypes: Tensor) -> Tensor:
    """Cosine similarity of every pixel with every prototype.

    ``s_k(p) = <feats(p) / ||feats(p)||, m_k / ||m_k||>``

    Args:
        feats: ``B×D×h×w`` features.
        prototypes: ``K×D`` prototypes.

    Returns:
        ``B×K×h×w`` scores in ``[-1, 1]``.
    """
    return torch.einsum('bdhw,kd->bkhw', F.normalize(feats, dim=1),
                        F.normalize(prototypes, dim=1))


def cluster_probe_loss(scores: Tensor) -> Tensor:
    """Online spherical k-means loss, hard assignment (STEGO/HP; docs/methods/baseline.md eq. 2).

    ``L = -mean_{b,p} max_k s_k(p)``; the gradient reaches only the winning
    prototype of each pixel.

    Args:
        scores: ``B×K×h×w`` cosine scores.

    Returns:
        Scalar loss.
    """
    return -scores.max(dim=1).values.mean()


def feature_moments(samples: Tensor) -> Tuple[int, Tensor, Tensor]:
    """Count, sum and sum of outer products of ``N×D`` rows (float64).

    Moments of several batches add up, so PCA over millions of pixels needs
    only ``D×D`` memory.
    """
    x = samples.double()
    return x.shape[0], x.sum(dim=0), x.T @ x


def principal_directions_from_moments(count: int, total: Tensor, outer: Tensor,
                                      num: int) -> Tensor:
    """First ``num`` principal directions from feature moments, with a fixed sign.

    The directions are the top eigenvectors of the covariance
    ``C = (Σ x xᵀ − n·μμᵀ) / (n − 1)``, ``μ = Σx / n`` — PriMaPs' PCA
    initialisation (docs/methods/baseline.md eq. 3, Q3) computed exactly rather
    than by randomised SVD. Eigenvectors have no intrinsic sign; sklearn's
    ``svd_flip`` rule fixes it: the entry of largest magnitude of each
    direction is made positive.

    Args:
        count: ``n``, number of rows.
        total: ``(D,)`` sum of rows.
        outer: ``D×D`` sum of outer products.
        num: Number of directions ``K <= D``.

    Returns:
        ``K×D`` float64 unit directions, largest variance first.
    """
    dims = total.shape[0]
    if num > dims:
        raise ValueError(f'Cannot take {num} principal directions of {dims}-d features.')
    if count < 2:
        raise ValueError(f'PCA needs at least 2 feature samples, got {count}.')
    mean = total / count
    cov = (outer - count * torch.outer(mean, mean)) / (count - 1)
    _, vecs = torch.linalg.eigh(cov)
    dirs = vecs[:, -num:].flip(1).T.contiguous()
    signs = torch.sign(dirs.gather(1, dirs.abs().argmax(dim=1, keepdim=True)))
    return dirs * signs


def spherical_kmeans_centres(samples: Tensor, num: int, seed: int = 0,
                             iters: int = 50) -> Tensor:
    """Spherical k-means centres of a feature sample (k-means++ seeding).

    Args:
        samples: ``N×D`` features (normalised inside).
        num: Number of centres ``K <= N``.
        seed: Seed of the k-means++ draw.
        iters: Lloyd iterations.

    Returns:
        ``K×D`` unit centres.
    """
    x = F.normalize(samples.double(), dim=1)
    if num > x.shape[0]:
        raise ValueError(f'Cannot seed {num} centres from {x.shape[0]} samples.')
    gen = torch.Generator().manual_seed(seed)
    centres = x[torch.randint(x.shape[0], (1, ), generator=gen)]
    for _ in range(1, num):
        dist = (1 - x @ centres.T).clamp_min(0).min(dim=1).values
        probs = dist / dist.sum() if dist.sum() > 0 else torch.full_like(dist, 1 / len(dist))
        centres = torch.cat([centres, x[torch.multinomial(probs, 1, generator=gen)]])
    for _ in range(iters):
        assign = (x @ centres.T).argmax(dim=1)
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        empty = sums.norm(dim=1) == 0
        sums[empty] = centres[empty]
        new = F.normalize(sums, dim=1)
        if torch.allclose(new, centres):
            break
        centres = new
    return centres.to(samples.dtype)


class ClusterProbe(nn.Module):
    """``K`` learnable prototypes scored by cosine similarity (docs/methods/baseline.md eqs. 1, 4).

    The probe reads ``feats.detach()``: its loss trains the prototypes only and
    never reaches what it probes.

    Args:
        in_channels: Feature width ``D``.
        num_clusters: Number of prototypes ``K``.
        alpha: Scale turning cosine scores into logits for soft assignments
            and CRF unaries (``softmax(alpha·s)``; the references use 2).
    """

    def __init__(self, in_channels: int, num_clusters: int, alpha: float = 2.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.prototypes = nn.Parameter(torch.randn(num_clusters, in_channels))

    @property
    def num_clusters(self) -> int:
        return self.prototypes.shape[0]

    def forward(self, feats: Tensor) -> Tensor:
        """``B×D×h×w`` features → ``B×K×h×w`` cosine scores."""
        return cosine_cluster_scores(feats.detach(), self.prototypes)

    def logits(self, feats: Tensor) -> Tensor:
        """Scaled scores ``alpha·s`` whose softmax is the soft assignment."""
        return self.alpha * self(feats)

    @float32_precision
    def loss(self, feats: Tensor) -> Tensor:
        """Hard-assignment spherical k-means loss of ``feats``."""
        return cluster_probe_loss(self(feats))

    @torch.no_grad()
    def set_prototypes(self, prototypes: Tensor) -> None:
        """Copy ``K×D`` prototypes in."""
        self.prototypes.copy_(prototypes.to(self.prototypes))


def flatten_pixels(feats: Tensor) -> Tensor:
    """``B×D×h×w`` features → ``(B·h·w)×D`` rows, one per pixel."""
    return feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])


def subsample_rows(rows: Tensor, num: Optional[int] = None,
                   generator: Optional[torch.Generator] = None) -> Tensor:
    """At most ``num`` rows of ``rows``, drawn uniformly without replacement."""
    if num is None or num >= rows.shape[0]:
        return rows
    return rows[torch.randperm(rows.shape[0], generator=generator)[:num].to(rows.device)]
