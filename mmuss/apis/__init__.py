from .inference import batches_by_shape, inference, init_model

__all__ = ['batches_by_shape', 'inference', 'init_model']
