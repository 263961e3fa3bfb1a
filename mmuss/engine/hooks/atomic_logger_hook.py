"""mmengine's LoggerHook whose test-metrics JSON is written once, atomically."""
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import dump
from mmengine.hooks import LoggerHook
from mmseg.registry import HOOKS

from mmuss.utils.fileio import atomic_write


@HOOKS.register_module()
class AtomicLoggerHook(LoggerHook):
    """``LoggerHook`` (same options) whose ``<timestamp>.json`` test metrics cannot be torn.

    After a test run mmengine's hook dumps the metrics from every rank to the
    same file (the log directory is shared), so under DDP two processes write
    it at once and it can come out as invalid JSON. Here only the main
    process writes it, to a temporary file renamed over the final name.

    tools/test.py and tools/train.py use it wherever a config asks for
    ``LoggerHook``.
    """

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        tag, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
        runner.logger.info(log_str)
        if is_main_process():
            path = osp.join(runner.log_dir, self.json_log_path)
            tags = self._process_tags(tag)
            atomic_write(path, lambda tmp: dump(tags, tmp, file_format='json'), '.json')
