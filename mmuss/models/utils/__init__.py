from .backbone_output import BackboneOutput
from .cluster_probe import (ClusterProbe, cluster_probe_loss, cosine_cluster_scores,
                            principal_directions, sample_pixels, spherical_kmeans_centres)
from .linear_probe import LinearProbe, linear_probe_loss

__all__ = [
    'BackboneOutput', 'ClusterProbe', 'LinearProbe', 'cluster_probe_loss',
    'cosine_cluster_scores', 'linear_probe_loss', 'principal_directions', 'sample_pixels',
    'spherical_kmeans_centres'
]
