"""``_base_ = 'mmuss::...'``: configs of the imported mmuss package, however it is installed.

mmengine resolves ``mmuss::path`` to ``<installed path>/.mim/configs/path``
and finds the installed path through the distribution's location, which for
an editable install (``pip install -e .``) is site-packages, where no ``mmuss``
folder exists ("No such file or directory: .../mmuss/.mim/model-index.yml").
The configs are wherever the imported package is, so mmuss answers that lookup
itself.
"""
import os.path as osp

import mmengine.config.config as mmengine_config
from mmengine.config.utils import MODULE2PACKAGE

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def mmuss_config_root() -> str:
    """The imported package's folder, holding ``.mim/model-index.yml`` and ``.mim/configs``.

    Raises a one-line ``FileNotFoundError`` saying what to do when ``.mim`` is
    missing (e.g. a copy of the sources that dropped its symlinks).
    """
    index = osp.join(PACKAGE_DIR, '.mim', 'model-index.yml')
    if not osp.isfile(index):
        raise FileNotFoundError(
            f"'mmuss::' configs need {index}, which is missing: reinstall mmuss from a git "
            f"clone (pip install . or pip install -e .), or name the config by its file path.")
    return PACKAGE_DIR


def enable_mmuss_config_scope() -> None:
    """Let ``Config.fromfile`` resolve ``mmuss::`` to :func:`mmuss_config_root` (idempotent)."""
    MODULE2PACKAGE.setdefault('mmuss', 'mmuss')
    lookup = mmengine_config.get_installed_path
    if getattr(lookup, 'mmuss_scope', False):
        return

    def get_installed_path(package: str) -> str:
        return mmuss_config_root() if package == 'mmuss' else lookup(package)

    get_installed_path.mmuss_scope = True
    mmengine_config.get_installed_path = get_installed_path
