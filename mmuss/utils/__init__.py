from .checkpoint import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .ignore_index import IGNORE_INDEX
from .rng import preserved_rng_state

__all__ = ['IGNORE_INDEX', 'allow_mmengine_checkpoints', 'mmengine_checkpoint_globals',
           'preserved_rng_state']
