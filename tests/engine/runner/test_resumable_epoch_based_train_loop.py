"""ResumableEpochBasedTrainLoop continues a mid-epoch checkpoint's epoch at its next batch.

7 samples in batches of 2: one process sees [0, 1], [2, 3], [4, 5], [6] per epoch without
shuffling (4 iterations per epoch); rank 1 of 2 sees [1, 3], [5, 0] (mmengine's DefaultSampler
pads 7 samples to 8 with sample 0 and gives rank r the samples r, r+2, ...).
"""
import mmengine.dataset.sampler
import pytest
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

from ...train_loop_toys import (Interrupted, NumberedSamples, RecordBatches, StopAfter,
                                toy_runner)


def iteration_checkpoints():
    return dict(type='IterCheckpointHook', interval=1, max_keep_ckpts=-1)


@pytest.fixture(scope='module')
def full(tmp_path_factory):
    """Two uninterrupted epochs with a checkpoint after every iteration and every epoch."""
    work = tmp_path_factory.mktemp('full')
    record = RecordBatches()
    toy_runner(work, 'full', [iteration_checkpoints(), record]).train()
    return work, record.seen


def resume(tmp_path, checkpoint, name, loop='ResumableEpochBasedTrainLoop', **kwargs):
    record = RecordBatches()
    runner = toy_runner(tmp_path / name, name, [iteration_checkpoints(), record], loop=loop,
                        resume_from=checkpoint, **kwargs)
    runner.train()
    return runner, record.seen


def test_the_uninterrupted_run_sees_every_batch_once_per_epoch(full):
    _, seen = full
    epoch = [[0, 1], [2, 3], [4, 5], [6]]
    assert seen == [(e, i, b) for e in (0, 1) for i, b in enumerate(epoch)]


def test_mid_epoch_resume_continues_at_the_next_batch(full, tmp_path):
    work, _ = full
    runner, seen = resume(tmp_path, work / 'iter_6.pth', 'mid')  # 2 batches of epoch 1 done
    assert seen == [(1, 2, [4, 5]), (1, 3, [6])]
    assert runner.iter == 8 and runner.epoch == 2


def test_persistent_workers_skip_then_see_the_next_epoch_in_full(full, tmp_path):
    """The workers prefetch indices when an epoch starts; the epoch after the resumed one
    restarts them on the whole sampler again."""
    work, _ = full
    runner, seen = resume(tmp_path, work / 'iter_2.pth', 'workers', num_workers=2)
    assert seen == [(0, 2, [4, 5]), (0, 3, [6]),
                    (1, 0, [0, 1]), (1, 1, [2, 3]), (1, 2, [4, 5]), (1, 3, [6])]
    runner.train_dataloader._iterator._shutdown_workers()  # else torch takes 10 s at gc


def test_mmengine_loop_would_repeat_the_consumed_batches(full, tmp_path):
    """The failure this loop fixes: mmengine restarts epoch 1 and trains 4 iterations more."""
    work, _ = full
    runner, seen = resume(tmp_path, work / 'iter_6.pth', 'plain', loop='EpochBasedTrainLoop')
    assert [batch for _, _, batch in seen] == [[0, 1], [2, 3], [4, 5], [6]]
    assert runner.iter == 10


def test_checkpoint_after_the_last_batch_only_ends_the_epoch(full, tmp_path):
    """iter_4.pth holds all of epoch 0: the epoch's end hooks run, then epoch 1 in full."""
    work, _ = full
    runner, seen = resume(tmp_path, work / 'iter_4.pth', 'end')
    assert seen == [(1, 0, [0, 1]), (1, 1, [2, 3]), (1, 2, [4, 5]), (1, 3, [6])]
    assert (tmp_path / 'end' / 'epoch_1.pth').is_file() and runner.iter == 8


def test_epoch_checkpoint_resumes_as_mmengine(full, tmp_path):
    work, _ = full
    _, seen = resume(tmp_path, work / 'epoch_1.pth', 'ours')
    _, plain = resume(tmp_path, work / 'epoch_1.pth', 'theirs', loop='EpochBasedTrainLoop')
    assert seen == plain == [(1, 0, [0, 1]), (1, 1, [2, 3]), (1, 2, [4, 5]), (1, 3, [6])]


def test_shuffled_epoch_continues_in_its_own_order(tmp_path):
    """The resumed run sees the rest of the order mmengine's loop drew for that epoch."""
    record = RecordBatches()
    toy_runner(tmp_path / 'plain', 'shuffled_plain', [record], loop='EpochBasedTrainLoop',
               shuffle=True).train()
    stopped = RecordBatches()
    runner = toy_runner(tmp_path / 'w', 'shuffled', [iteration_checkpoints(), stopped,
                                                     StopAfter(5)], shuffle=True)
    with pytest.raises(Interrupted):
        runner.train()
    runner, seen = resume(tmp_path, tmp_path / 'w' / 'iter_5.pth', 'shuffled_resumed',
                          shuffle=True)
    assert stopped.seen == record.seen[:5] and seen == record.seen[5:]
    assert record.seen[4][2] != [0, 1]  # epoch 1 is really shuffled (seed 0 + epoch 1)


def test_a_different_shuffle_seed_is_refused_mid_epoch(full, tmp_path):
    """The remaining samples of another seed's order are unknown (e.g. randomness.seed=None);
    without shuffling the order does not depend on it."""
    runner = toy_runner(tmp_path / 'w', 'seeded', [iteration_checkpoints(), StopAfter(5)],
                        shuffle=True)
    with pytest.raises(Interrupted):
        runner.train()
    with pytest.raises(ValueError, match='sampler seed .* differs'):
        resume(tmp_path, tmp_path / 'w' / 'iter_5.pth', 'reseeded', shuffle=True, seed=1)
    work, _ = full
    _, seen = resume(tmp_path, work / 'iter_6.pth', 'unshuffled', seed=1)
    assert seen == [(1, 2, [4, 5]), (1, 3, [6])]


def test_second_rank_skips_its_own_samples(tmp_path, monkeypatch):
    monkeypatch.setattr(mmengine.dataset.sampler, 'get_dist_info', lambda: (1, 2))
    record = RecordBatches()
    toy_runner(tmp_path / 'w', 'rank1', [iteration_checkpoints(), record]).train()
    assert [batch for _, _, batch in record.seen] == [[1, 3], [5, 0]] * 2
    _, seen = resume(tmp_path, tmp_path / 'w' / 'iter_3.pth', 'rank1_resumed')
    assert seen == [(1, 1, [5, 0])]


def test_changed_batches_per_epoch_are_refused(full, tmp_path):
    work, _ = full
    with pytest.raises(ValueError, match=r'batch 2 of 4 in epoch 2.*has 3 batches per epoch'):
        resume(tmp_path, work / 'iter_6.pth', 'batch3', batch_size=3)


def test_a_custom_batch_sampler_is_refused(tmp_path):
    class Chunks(BatchSampler):
        pass

    loader = DataLoader(NumberedSamples(), batch_sampler=Chunks(
        SequentialSampler(range(7)), batch_size=2, drop_last=False))
    runner = toy_runner(tmp_path / 'w', 'chunks', [])
    runner._train_dataloader = loader
    with pytest.raises(TypeError, match=r'needs torch\'s BatchSampler.*Chunks'):
        runner.train()
