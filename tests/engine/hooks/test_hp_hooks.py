"""HP hooks: λ ramp, pool-renewal schedule, pool indices, iteration seeds."""
import pytest
import torch

from mmuss.engine.hooks.hp_lambda_hook import hp_lambda
from mmuss.engine.hooks.iteration_seed_hook import iteration_seed
from mmuss.engine.hooks.reference_pool_hook import is_renewal_iter, pool_indices


def test_lambda_is_zero_through_warmup_then_linear():
    # T = 100 iterations, warm-up w = 10: λ(t) = (t − 10) / 90 after t = 10
    assert hp_lambda(0, 100, 10) == 0.0
    assert hp_lambda(10, 100, 10) == 0.0
    assert hp_lambda(11, 100, 10) == pytest.approx(1 / 90)
    assert hp_lambda(55, 100, 10) == pytest.approx(0.5)
    assert hp_lambda(99, 100, 10) == pytest.approx(89 / 90)  # never quite 1
    with pytest.raises(ValueError, match='warmup'):
        hp_lambda(0, 10, 10)


def test_renewal_every_interval_within_an_epoch_but_never_at_its_start():
    # 5 iterations per epoch, interval 2: within-epoch indices 2 and 4 renew
    fired = [t for t in range(15) if is_renewal_iter(t, 5, 2)]
    assert fired == [2, 4, 7, 9, 12, 14]


def test_pool_indices_are_distinct_and_bounded():
    idx = pool_indices(10, 10, torch.Generator().manual_seed(0))
    assert sorted(idx.tolist()) == list(range(10))
    with pytest.raises(ValueError, match=r'pool size 11 is larger than the training set \(10'):
        pool_indices(10, 11, torch.Generator())


def test_iteration_seeds_differ_per_iteration_and_rank():
    seeds = {iteration_seed(3, t, r, 2) for t in range(5) for r in range(2)}
    assert len(seeds) == 10
    assert iteration_seed(3, 4, 1, 2) == (3 + 4) * 2 + 1
