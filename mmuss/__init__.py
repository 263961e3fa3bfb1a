"""mmuss: unsupervised semantic segmentation components for MMSegmentation 1.x.

Importing the package registers every component in mmseg's registries, so
``custom_imports=dict(imports=['mmuss'])`` in a config is all a user needs. It
also lets torch >= 2.6 load mmengine's own training checkpoints (see
:func:`mmuss.utils.allow_mmengine_checkpoints`).
"""
from .utils import allow_mmengine_checkpoints
from .utils.config_scope import enable_mmuss_config_scope
from .version import __version__

allow_mmengine_checkpoints()
enable_mmuss_config_scope()  # `_base_ = 'mmuss::...'` (configs in mmuss/.mim)

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__']
