from .atomic_checkpoint_hook import AtomicCheckpointHook
from .atomic_logger_hook import AtomicLoggerHook
from .best_after_warmup_checkpoint_hook import BestAfterWarmupCheckpointHook
from .cause_clusterbook_hook import CauseClusterbookHook
from .cause_head_init_hook import CauseHeadInitHook
from .checkpoint_prototype_init_hook import CheckpointPrototypeInitHook
from .cluster_matching_hook import ClusterMatchingHook
from .hp_lambda_hook import HPLambdaHook
from .iter_checkpoint_hook import IterCheckpointHook
from .iteration_seed_hook import IterationSeedHook
from .non_finite_guard_hook import NonFiniteGuardHook
from .prediction_dump_hook import PredictionDumpHook
from .primaps_em_hook import PrimapsEMHook
from .prototype_init_hook import PrototypeInitHook
from .reference_pool_hook import ReferencePoolHook
from .uss_visualization_hook import USSVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'AtomicLoggerHook', 'BestAfterWarmupCheckpointHook',
    'CauseClusterbookHook', 'CauseHeadInitHook', 'CheckpointPrototypeInitHook',
    'ClusterMatchingHook', 'HPLambdaHook', 'IterCheckpointHook', 'IterationSeedHook',
    'NonFiniteGuardHook', 'PredictionDumpHook', 'PrimapsEMHook', 'PrototypeInitHook',
    'ReferencePoolHook', 'USSVisualizationHook'
]
