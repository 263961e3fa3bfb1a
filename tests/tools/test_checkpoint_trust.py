"""Importing mmuss must not make checkpoint loading unsafe: a code-running pickle is refused."""
import os
import pickle

import pytest
import torch


class CreatesDirectory:
    """Unpickling this calls ``os.mkdir(path)``: a stand-in for arbitrary code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


def malicious_checkpoint(tmp_path) -> tuple:
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': CreatesDirectory(str(marker))}, path)
    return path, marker


def test_test_tool_refuses_a_code_running_checkpoint(tmp_path, tiny_data, tiny_config,
                                                     test_tool, monkeypatch):
    monkeypatch.delenv('MMUSS_TRUST_CHECKPOINTS', raising=False)
    path, marker = malicious_checkpoint(tmp_path)
    with pytest.raises(pickle.UnpicklingError,
                       match=r'evil\.pth.*posix\.mkdir.*--trust-checkpoint'):
        test_tool.main([str(tiny_config(tiny_data)), str(path), '--work-dir',
                        str(tmp_path / 't'), '--cfg-options', 'experiment_name=evil'])
    assert not marker.exists()


def test_trust_is_an_explicit_opt_in(tmp_path, monkeypatch):
    from mmuss.utils.checkpoint import load_local_checkpoint
    path, marker = malicious_checkpoint(tmp_path)
    monkeypatch.delenv('MMUSS_TRUST_CHECKPOINTS', raising=False)
    with pytest.raises(pickle.UnpicklingError):
        load_local_checkpoint(str(path))
    monkeypatch.setenv('MMUSS_TRUST_CHECKPOINTS', '1')
    load_local_checkpoint(str(path))
    assert marker.is_dir()
