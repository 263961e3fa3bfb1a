"""preserved_rng_state: every global stream a hook may draw from comes back unchanged."""
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmseg.registry import MODELS

from mmuss.engine.hooks.reference_pool_hook import ReferencePoolHook
from mmuss.utils import preserved_rng_state

from ..stego_hp_toys import samples, toy_segmentor_cfg


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_python_numpy_and_torch_streams_resume_where_they_were():
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    expected = draws()
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    with preserved_rng_state():
        draws(), draws()
    assert draws() == expected


def test_reference_pool_building_leaves_the_torch_stream_alone():
    """Pool building runs the head with dropout; the training step's masks must not move."""
    model = MODELS.build(toy_segmentor_cfg(dict(
        type='HPHead', channels=6, num_classes=3, pool_size=4, dropout_ratio=0.5)))
    dataset = [dict(inputs=torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8),
                    data_samples=samples(1, views=())[0]) for _ in range(4)]
    runner = SimpleNamespace(model=model,
                             train_dataloader=SimpleNamespace(dataset=dataset, num_workers=0))
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    ReferencePoolHook(batch_size=2).collect(runner, 0)
    assert torch.equal(torch.rand(3), expected)
