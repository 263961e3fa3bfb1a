from .prototype_init_hook import PrototypeInitHook

__all__ = ['PrototypeInitHook']
