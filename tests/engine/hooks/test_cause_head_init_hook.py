"""CauseHeadInitHook loads decode_head.* of another run, whichever way that run was saved."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mmuss.engine.hooks import CauseHeadInitHook


class Segmentor(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.decode_head = nn.Module()
        self.decode_head.proj = nn.Linear(2, 2)
        self.decode_head.cluster_probe = nn.Linear(2, 3)


@pytest.mark.parametrize('prefix', ['', 'module.'])
def test_head_weights_load_from_a_plain_or_ddp_checkpoint(tmp_path, prefix):
    trained = Segmentor()
    state = {f'{prefix}{k}': v for k, v in trained.state_dict().items()}
    path = tmp_path / 'iter_8.pth'
    torch.save(dict(state_dict=state), path)
    model = Segmentor()
    CauseHeadInitHook(str(path)).before_train(SimpleNamespace(iter=0, model=model))
    assert torch.equal(model.decode_head.proj.weight, trained.decode_head.proj.weight)
    assert not torch.equal(model.decode_head.cluster_probe.weight,
                           trained.decode_head.cluster_probe.weight)
