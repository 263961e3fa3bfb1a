"""PriMaPs internals: mask proposals, their registered proposer, the EM prototypes."""
from .gain_prototypes import GainPrototypes, gain_prototype_logits
from .masks import primaps_mask_ids
from .proposer import PrimapsProposer

__all__ = ['GainPrototypes', 'PrimapsProposer', 'gain_prototype_logits', 'primaps_mask_ids']
