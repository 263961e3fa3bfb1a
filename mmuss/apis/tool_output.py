"""Keep standalone tools' stdout for their result: logs go to stderr."""
import logging
import sys

from mmengine.logging import MMLogger


def logs_to_stderr() -> MMLogger:
    """Point the current mmengine logger's console output (stdout by default) at stderr.

    Model building and weight initialisation log through mmengine's current
    logger; a tool whose stdout carries its result (e.g. one JSON line) calls
    this first.
    """
    logger = MMLogger.get_current_instance()
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler):
            handler.stream = sys.stderr  # not setStream: it flushes the old, maybe closed, one
    return logger
