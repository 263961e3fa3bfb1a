"""``--cfg-options`` that repoint a config: a top-level variable changes where it was used.

mmengine evaluates a config file once: ``data_root = 'data/x'`` followed by
``dataset=dict(data_root=data_root)`` stores the *value*, so overriding the
top-level ``data_root`` afterwards changes nothing else. :func:`merge_cfg_options`
gives such an override the meaning a user expects. Before merging, for every
top-level variable named in the options, every field below the other top-level
keys that holds the variable's old value gets the new value when

- the field has the variable's name, or an alias of it (:data:`ALIASES`: a crop
  size is also the ``size`` of ``ResizeShortSide`` and the ``scale`` of a fixed
  ``Resize``; elements of a tuple there that equal the old value change too), or
- the old value is a string (a path such as ``clusterbook_file`` or
  ``sota_checkpoint`` is the same artefact under any field name);

and for a path variable (a name ending in ``_root``) so does every path under
the old one (``knn_file``, ``out_dir``, ...). A variable ``train_<x>`` (e.g.
``train_crop_size``) is ``<x>`` for the training data: it changes only the keys
named ``train_*`` (``train_dataloader``, ...), which ``<x>`` then leaves alone.
Options naming a nested key (``train_dataloader.dataset.data_root=...``) are
merged afterwards and win.
"""
import copy
from typing import Any, Callable, Optional

from mmengine.config import Config

TRAIN = 'train_'
_CROP_FIELDS = ('crop_size', 'size', 'scale')
# Fields that hold a top-level variable under another name in the shipped configs.
ALIASES = dict(crop_size=_CROP_FIELDS, train_crop_size=_CROP_FIELDS,
               warmup_epochs=('warmup_epochs', 'warmup'))  # BestAfterWarmupCheckpointHook


def is_under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or a path inside it."""
    root = root.rstrip('/')
    return path == root or path.startswith(root + '/')


def replacement(name: Any, value: Any, key: str, old: Any, new: Any) -> Any:
    """What ``value`` (stored under ``name``) becomes when variable ``key`` goes ``old → new``."""
    named = name in ALIASES.get(key, (key, ))
    if (named or (isinstance(old, str) and old)) and value == old:
        return new
    if named and isinstance(value, tuple) and not isinstance(old, (str, tuple)):
        return tuple(new if v == old else v for v in value)
    if (key.endswith('_root') and isinstance(value, str) and isinstance(old, str) and old
            and isinstance(new, str) and is_under(value, old)):
        return new.rstrip('/') + value[len(old.rstrip('/')):]
    return value


def repoint(node: Any, key: str, old: Any, new: Any) -> None:
    """Apply :func:`replacement` to every leaf under the dict or list ``node``, in place."""
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
    for name, value in items:
        if isinstance(value, (dict, list)):
            repoint(value, key, old, new)
        else:
            node[name] = replacement(name, value, key, old, new)


def in_scope(cfg: Config, key: str) -> Callable[[str], bool]:
    """Which top-level names variable ``key`` may change: ``train_*`` ones for a ``train_<x>``,
    the others for an ``<x>`` that has a ``train_<x>`` beside it, else all."""
    if key.startswith(TRAIN):
        return lambda name: name.startswith(TRAIN)
    if TRAIN + key in cfg:
        return lambda name: not name.startswith(TRAIN)
    return lambda name: True


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> Config:
    """Merge ``--cfg-options`` into ``cfg``, carrying top-level variables to their uses.

    Args:
        cfg: The loaded config (changed in place).
        options: ``{key: value}`` from ``DictAction``, or ``None``.

    Returns:
        ``cfg``.
    """
    if not options:
        return cfg
    for name in list(cfg.keys()):  # base-variable substitution shares nested dicts between keys
        cfg[name] = copy.deepcopy(cfg[name])
    for key, new in options.items():
        if '.' in key or key not in cfg:
            continue
        old = cfg[key]
        if isinstance(old, (dict, list)):
            continue
        scope = in_scope(cfg, key)
        for name in [n for n in cfg.keys() if n != key and scope(n)]:
            value = cfg[name]
            if isinstance(value, (dict, list)):
                repoint(value, key, old, new)
            else:
                cfg[name] = replacement(name, value, key, old, new)
    cfg.merge_from_dict(options)
    return cfg
