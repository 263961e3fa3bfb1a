"""Shared pytest set-up: register mmuss under mmseg's scope, keep torch single-threaded."""
import torch
from mmseg.utils import register_all_modules

import mmuss  # noqa: F401

register_all_modules(init_default_scope=True)
torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long-running test, excluded by default')
    config.addinivalue_line('markers', 'xdist_group(name): run in one pytest-xdist worker '
                            '(with --dist loadgroup)')
