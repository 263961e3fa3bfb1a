from .backbone_output import BackboneOutput
from .cluster_probe import (ClusterProbe, cluster_probe_loss, cosine_cluster_scores,
                            flatten_pixels, principal_directions, spherical_kmeans_centres,
                            subsample_rows)
from .dense_crf import batched_dense_crf, crf_from_probs, dense_crf
from .ema import ema_update_
from .linear_probe import LinearProbe, linear_probe_loss

__all__ = [
    'BackboneOutput', 'ClusterProbe', 'LinearProbe', 'batched_dense_crf', 'cluster_probe_loss',
    'cosine_cluster_scores', 'crf_from_probs', 'dense_crf', 'ema_update_', 'flatten_pixels',
    'linear_probe_loss', 'principal_directions', 'spherical_kmeans_centres', 'subsample_rows'
]
