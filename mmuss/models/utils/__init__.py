from .backbone_output import BackboneOutput
from .cluster_probe import (ClusterProbe, cluster_probe_loss, cosine_cluster_scores,
                            feature_moments, flatten_pixels, principal_directions,
                            principal_directions_from_moments, spherical_kmeans_centres,
                            subsample_rows)
from .dense_crf import batched_dense_crf, crf_from_probs, dense_crf
from .ema import EMATeacher, ema_update_, update_teachers
from .gain_prototypes import GainPrototypes, gain_prototype_logits
from .linear_probe import LinearProbe, linear_probe_loss
from .primaps import primaps_mask_ids
from .primaps_proposer import PrimapsProposer

__all__ = [
    'BackboneOutput', 'ClusterProbe', 'EMATeacher', 'GainPrototypes', 'LinearProbe',
    'PrimapsProposer', 'batched_dense_crf', 'cluster_probe_loss', 'cosine_cluster_scores',
    'crf_from_probs', 'dense_crf', 'ema_update_', 'feature_moments', 'flatten_pixels',
    'gain_prototype_logits', 'linear_probe_loss', 'primaps_mask_ids', 'principal_directions',
    'principal_directions_from_moments', 'spherical_kmeans_centres', 'subsample_rows',
    'update_teachers'
]
