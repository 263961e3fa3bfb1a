"""Shared pytest set-up: register mmuss, keep torch single-threaded and deterministic."""
import torch

import mmuss  # noqa: F401

torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long-running test, excluded by default')
