from .cluster_matching_hook import ClusterMatchingHook
from .hp_lambda_hook import HPLambdaHook
from .iteration_seed_hook import IterationSeedHook
from .prototype_init_hook import PrototypeInitHook
from .reference_pool_hook import ReferencePoolHook

__all__ = [
    'ClusterMatchingHook', 'HPLambdaHook', 'IterationSeedHook', 'PrototypeInitHook',
    'ReferencePoolHook'
]
