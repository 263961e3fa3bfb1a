"""torch>=2.6 loading of mmengine checkpoints, without weakening downloads."""
import logging
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_from_http

from mmuss.utils.checkpoint import load_local_checkpoint


def mmengine_style_checkpoint() -> dict:
    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('seed', np.int64(3))
    return dict(meta=dict(iter=2, seed=np.int64(3)), state_dict={'w': torch.ones(2)},
                message_hub=hub.state_dict())


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(mmengine_style_checkpoint(), path)
    ckpt = torch.load(path, weights_only=True)  # the strict loader, no fallback
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.375) and buffer.current() == 0.25
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


class NotAllowListed:
    def __init__(self):
        self.x = 1


def test_foreign_objects_need_an_explicit_opt_in(tmp_path, caplog, monkeypatch):
    path = tmp_path / 'foreign.pth'
    torch.save({'obj': NotAllowListed()}, path)
    monkeypatch.delenv('MMUSS_TRUST_CHECKPOINTS', raising=False)
    with pytest.raises(pickle.UnpicklingError, match=r'foreign\.pth.*NotAllowListed'):
        load_local_checkpoint(str(path))
    monkeypatch.setenv('MMUSS_TRUST_CHECKPOINTS', '1')
    with caplog.at_level(logging.WARNING):
        ckpt = load_local_checkpoint(str(path))
    assert ckpt['obj'].x == 1
    assert CheckpointLoader._schemes[''] is load_local_checkpoint
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_local_checkpoint(str(tmp_path / 'missing.pth'))


def test_downloads_keep_mmengines_safe_loader():
    assert CheckpointLoader._schemes['https://'] is load_from_http
    assert CheckpointLoader._schemes['http://'] is load_from_http


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('keep', [0.0, 0.001, 0.1, 0.5, 0.999])
def test_cut_short_checkpoint_is_named_as_incomplete(tmp_path, legacy, keep):
    from mmuss.utils.checkpoint import IncompleteCheckpointError
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {'w': torch.randn(100, 100)}}, path,
               _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(IncompleteCheckpointError,
                       match=rf'{path} is not a complete checkpoint \(truncated\?\): ') as info:
        load_local_checkpoint(str(path))
    assert info.value.reason.startswith('not a complete checkpoint (truncated?)')


def test_a_file_that_is_no_checkpoint_says_so(tmp_path):
    from mmuss.utils.checkpoint import IncompleteCheckpointError
    path = tmp_path / 'notes.pth'
    path.write_text('these are my notes')
    with pytest.raises(IncompleteCheckpointError, match=r"notes\.pth is not a checkpoint: it "
                       r"starts with b'thes', neither a torch zip file nor a pickle"):
        load_local_checkpoint(str(path))


class CallsGetcwd:
    """Pickles as a call of ``os.getcwd`` (module ``posix``, which torch blocks outright)."""

    def __reduce__(self):
        import os
        return os.getcwd, ()


@pytest.mark.parametrize('obj, culprit', [(CallsGetcwd(), 'posix.getcwd'),
                                          (NotAllowListed(), f'{__name__}.NotAllowListed')])
def test_refusal_names_the_global_cleanly(tmp_path, monkeypatch, obj, culprit):
    path = tmp_path / 'foreign.pth'
    torch.save({'obj': obj}, path)
    monkeypatch.delenv('MMUSS_TRUST_CHECKPOINTS', raising=False)
    with pytest.raises(pickle.UnpicklingError) as info:
        load_local_checkpoint(str(path))
    assert str(info.value).startswith(f'Refusing to load {path}: it holds the global {culprit}, '
                                      f'which is not among the types mmengine checkpoints need')
