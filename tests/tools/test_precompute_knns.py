"""tools/precompute_knns.py: chunked top-k and the table it writes."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'stego_tool_{name}',
                                                  REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


knn_tool = load_tool('precompute_knns')


def test_knn_table_ranks_by_cosine_in_any_chunking():
    # angles 0°, 10°, 55°, 90°, 180°: neighbours by angular distance
    angles = torch.tensor([0., 10., 55., 90., 180.]) * torch.pi / 180
    desc = torch.stack([angles.cos(), angles.sin()], dim=1)
    expected = [[0, 1, 2], [1, 0, 2], [2, 3, 1], [3, 2, 1], [4, 3, 2]]
    for chunk in (1, 2, 5, 100):
        assert knn_tool.knn_table(desc, desc, 3, chunk).tolist() == expected
    with pytest.raises(ValueError, match='6 neighbours among 5'):
        knn_tool.knn_table(desc, desc, 6)


def test_pooled_descriptors_are_unit_means():
    feats = torch.zeros(1, 2, 2, 2)
    feats[0, 0] = torch.tensor([[1., 3.], [0., 0.]])  # channel means: 1, 0.5
    feats[0, 1] = 0.5
    assert torch.allclose(knn_tool.pooled_descriptors(feats),
                          torch.tensor([[1., 0.5]]) / np.sqrt(1.25))


def test_shards_cover_every_sample_once():
    bounds = [knn_tool.shard_bounds(10, r, 3) for r in range(3)]
    assert bounds == [(0, 4), (4, 8), (8, 10)]
