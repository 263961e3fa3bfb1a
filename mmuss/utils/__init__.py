from .checkpoint import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .ignore_index import IGNORE_INDEX
from .rng import preserved_rng_state
from .run_setup import (check_checkpoint_keys, check_data_roots, enable_show_dir,
                        setup_cpu_distributed)

__all__ = [
    'IGNORE_INDEX', 'allow_mmengine_checkpoints', 'check_checkpoint_keys', 'check_data_roots',
    'enable_show_dir', 'mmengine_checkpoint_globals', 'preserved_rng_state',
    'setup_cpu_distributed'
]
