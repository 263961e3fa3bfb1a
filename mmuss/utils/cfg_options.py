"""``--cfg-options`` that repoint a config: a top-level variable changes where it was used.

mmengine evaluates a config file once: ``data_root = 'data/x'`` followed by
``dataset=dict(data_root=data_root)`` stores the *value*, so overriding the
top-level ``data_root`` afterwards changes nothing else. :func:`merge_cfg_options`
gives such an override the meaning a user expects: before merging, every
field of the same name (for ``crop_size`` also ``size``, e.g. of
``ResizeShortSide``) holding the variable's old value gets the new value, and
for a path variable (a name ending in ``_root``) so does every path under the
old one (``knn_file``, ``out_dir``, ...). Options naming a nested key
(``train_dataloader.dataset.data_root=...``) are merged afterwards and win.
"""
from typing import Any, Optional

from mmengine.config import Config

# Fields that hold a top-level variable under another name in the shipped configs.
ALIASES = dict(crop_size=('crop_size', 'size'))


def is_under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or a path inside it."""
    root = root.rstrip('/')
    return path == root or path.startswith(root + '/')


def replacement(name: Any, value: Any, key: str, old: Any, new: Any) -> Any:
    """What ``value`` (stored under ``name``) becomes when variable ``key`` goes ``old → new``."""
    if name in ALIASES.get(key, (key, )) and value == old:
        return new
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
    for key, new in options.items():
        if '.' in key or key not in cfg:
            continue
        old = cfg[key]
        if old is None or isinstance(old, (dict, list)):
            continue
        for name in [n for n in cfg.keys() if n != key]:
            value = cfg[name]
            if isinstance(value, (dict, list)):
                repoint(value, key, old, new)
            else:
                cfg[name] = replacement(name, value, key, old, new)
    cfg.merge_from_dict(options)
    return cfg
