"""The tiny synthetic data and configs of tests/tools, for fault-injection runs."""
from ..tools.conftest import test_tool, tiny_config, tiny_data, train_tool  # noqa: F401
