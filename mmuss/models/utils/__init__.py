from .backbone_output import BackboneOutput
from .cluster_probe import (ClusterProbe, cluster_probe_loss, cosine_cluster_scores,
                            flatten_pixels, principal_directions, spherical_kmeans_centres,
                            subsample_rows)
from .ema import ema_update_
from .linear_probe import LinearProbe, linear_probe_loss

__all__ = [
    'BackboneOutput', 'ClusterProbe', 'LinearProbe', 'cluster_probe_loss',
    'cosine_cluster_scores', 'ema_update_', 'flatten_pixels', 'linear_probe_loss', 'principal_directions',
    'spherical_kmeans_centres', 'subsample_rows'
]
