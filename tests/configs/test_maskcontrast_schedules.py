"""MaskContrast's per-epoch learning rates equal the reference's formulas, epoch by epoch."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import PARAM_SCHEDULERS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'maskcontrast'
PRETRAIN = ['maskcontrast-sup-sal_resnet50-d8_40e_voc-512',
            'maskcontrast-unsup-sal_resnet50-d8_40e_voc-512',
            'maskcontrast-dino-sal_dino-vit-s16_40e_voc-512']


def epoch_learning_rates(name: str) -> list:
    """The learning rate of every training epoch, from the config's schedulers built by mmengine."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(CONFIGS / f'{name}.py'))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
                  for s in cfg.param_scheduler]
    assert all(s.by_epoch for s in schedulers)
    lrs = []
    for _ in range(cfg.train_cfg.max_epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:  # ParamSchedulerHook: one step after each epoch
            scheduler.step()
    return lrs


@pytest.mark.parametrize('name', PRETRAIN)
def test_pretraining_poly_schedule_is_the_references_per_epoch_formula(name):
    # reference: lr_e = 0.004 · (1 − e/40)^0.9 for the 0-based epoch e, set once per epoch
    expected = [0.004 * (1 - e / 40)**0.9 for e in range(40)]
    lrs = epoch_learning_rates(name)
    assert len(lrs) == 40
    assert lrs == pytest.approx(expected, rel=1e-9, abs=0)
    assert lrs[-1] == pytest.approx(0.004 * (1 / 40)**0.9)  # the last epoch still learns


def test_linear_probe_decays_after_epoch_25():
    # reference: lr = 0.1 · 0.1^[e > 25] for the 0-based epoch e
    expected = [0.1 * (0.1 if e > 25 else 1.0) for e in range(60)]
    got = epoch_learning_rates('maskcontrast-linear_resnet50-d8_60e_voc-512')
    assert got == pytest.approx(expected, rel=1e-12)
