"""Registries of the ``mmuss`` scope: children of mmseg's, which hold mmuss's components.

mmengine gives every top-level ``type`` dict of a ``_base_ = 'mmuss::...'`` config
``_scope_='mmuss'`` and builds it from the registry of that scope. These children
own nothing: a lookup falls through to mmseg's registries (where mmuss registers
its components) and on to mmengine's.
"""
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
         'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
         'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
         'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
         'INFERENCERS')

for _name in NAMES:
    _parent = getattr(mmseg_registry, _name)
    globals()[_name] = Registry(_parent.name, parent=_parent, scope='mmuss', locations=['mmuss'])

__all__ = list(NAMES)
