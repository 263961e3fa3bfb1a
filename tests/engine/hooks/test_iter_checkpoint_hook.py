"""IterCheckpointHook saves every N iterations beside the epoch checkpoints; each hook keeps
its own newest files across an interruption and resume (4 iterations per toy epoch)."""
import pytest

from mmuss.engine.hooks import IterCheckpointHook
from ...train_loop_toys import Interrupted, StopAfter, toy_runner


def names(work):
    return sorted(p.name for p in work.glob('*.pth'))


def test_both_hooks_keep_their_own_newest_files_across_a_resume(tmp_path):
    work = tmp_path / 'w'
    hook = dict(type='IterCheckpointHook', interval=1, max_keep_ckpts=2)
    runner = toy_runner(work, 'stopped', [hook, StopAfter(6)], epoch_keep=1)
    with pytest.raises(Interrupted):
        runner.train()
    assert names(work) == ['epoch_1.pth', 'iter_5.pth', 'iter_6.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_6.pth')

    runner = toy_runner(work, 'resumed', [hook], resume_from=work / 'iter_6.pth', epoch_keep=1)
    runner.train()
    assert runner.iter == 8
    assert names(work) == ['epoch_2.pth', 'iter_7.pth', 'iter_8.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_2.pth')


def test_interval_and_keep_all(tmp_path):
    work = tmp_path / 'w'
    hook = dict(type='IterCheckpointHook', interval=3, max_keep_ckpts=-1)
    toy_runner(work, 'every3', [hook], epoch_keep=-1).train()
    assert names(work) == ['epoch_1.pth', 'epoch_2.pth', 'iter_3.pth', 'iter_6.pth']


@pytest.mark.parametrize('interval,keep', [(0, 1), (5, 0)])
def test_bad_settings_are_named(interval, keep):
    with pytest.raises(ValueError, match=f'interval={interval}, max_keep_ckpts={keep}'):
        IterCheckpointHook(interval=interval, max_keep_ckpts=keep)
