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


def pytest_collection_modifyitems(config, items):
    """Suffix ``@<xdist_group>`` to the node ids under ``--dist loadgroup`` (in a worker), as
    pytest-xdist does: xdist 3.8 writes ``item._nodeid``, which pytest 9 no longer reads (node
    ids come from ``item._id``), so its groups were silently spread over the workers."""
    if not config.getoption('loadgroup', False):
        return
    from _pytest.nodeid import coerce_node_id
    for item in items:
        mark = item.get_closest_marker('xdist_group')
        if mark and item.nodeid.rfind('@') < item.nodeid.rfind(']') and hasattr(item, '_id'):
            item._id = coerce_node_id(f'{item.nodeid}@{mark.args[0]}')
