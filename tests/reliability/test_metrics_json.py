"""The test-metrics JSON the tools write: once, by the main process, through a rename.

mmengine's ``LoggerHook`` dumps it from every rank into the shared log
directory, so two processes of ``dist_test.sh`` could tear it (invalid JSON).
"""
import json
import logging
from types import SimpleNamespace
from unittest import mock

from mmengine.config import Config
from mmseg.registry import HOOKS

import mmuss  # noqa: F401
from mmuss.apis.run_config import add_reliability_hooks

METRICS = {'cluster/mIoU': 73.24, 'time': 0.0084}


def tool_logger_hook():
    """The logger hook as tools/test.py builds it from a config saying ``LoggerHook``."""
    cfg = Config(dict(default_hooks=dict(logger=dict(type='LoggerHook', interval=1))))
    add_reliability_hooks(cfg)
    hook = HOOKS.build(cfg.default_hooks.logger)
    hook.json_log_path = '20261201_000000.json'  # set by before_run from the timestamp
    return hook


def fake_runner(log_dir):
    processor = SimpleNamespace(
        get_log_after_epoch=lambda runner, n, mode, **kwargs: (dict(METRICS), 'log'))
    return SimpleNamespace(log_processor=processor, test_dataloader=[None] * 4,
                           logger=logging.getLogger('test_metrics_json'), log_dir=str(log_dir))


def test_only_the_main_process_writes_the_metrics(tmp_path):
    hook = tool_logger_hook()
    with mock.patch('mmengine.dist.utils.get_rank', return_value=1):
        hook.after_test_epoch(fake_runner(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_main_process_writes_valid_json_and_no_temporary_file(tmp_path):
    hook = tool_logger_hook()
    (tmp_path / hook.json_log_path).write_text('{"cluster/mIoU": 1.0, "time": 0.123456789}}')
    hook.after_test_epoch(fake_runner(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == [hook.json_log_path]
    assert json.loads((tmp_path / hook.json_log_path).read_text()) == METRICS
