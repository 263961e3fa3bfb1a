from .cluster_matching_hook import ClusterMatchingHook
from .prototype_init_hook import PrototypeInitHook

__all__ = ['ClusterMatchingHook', 'PrototypeInitHook']
