from .subset_clip_optim_wrapper_constructor import SubsetClipOptimWrapperConstructor

__all__ = ['SubsetClipOptimWrapperConstructor']
