from .backbone_output import BackboneOutput
from .cluster_probe import (ClusterProbe, cluster_probe_loss, cosine_cluster_scores,
                            feature_moments, flatten_pixels, principal_directions_from_moments,
                            spherical_kmeans_centres, subsample_rows)
from .dense_crf import batched_dense_crf, crf_from_probs, dense_crf
from .ema import EMATeacher, ema_update_, update_teachers
from .freeze import freeze_, frozen_copy
from .images import PixelNormaliser
from .linear_probe import LinearProbe, linear_probe_loss

__all__ = [
    'BackboneOutput', 'ClusterProbe', 'EMATeacher', 'LinearProbe', 'PixelNormaliser',
    'batched_dense_crf', 'cluster_probe_loss', 'cosine_cluster_scores', 'crf_from_probs',
    'dense_crf', 'ema_update_', 'feature_moments', 'flatten_pixels', 'freeze_', 'frozen_copy',
    'linear_probe_loss', 'principal_directions_from_moments', 'spherical_kmeans_centres',
    'subsample_rows', 'update_teachers'
]
