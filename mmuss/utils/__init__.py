from .checkpoint_compat import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .run_setup import (check_checkpoint_keys, check_data_roots, enable_show_dir,
                        setup_cpu_distributed)

__all__ = [
    'allow_mmengine_checkpoints', 'check_checkpoint_keys', 'check_data_roots',
    'enable_show_dir', 'mmengine_checkpoint_globals', 'setup_cpu_distributed'
]
