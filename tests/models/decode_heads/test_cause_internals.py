"""CAUSE's grid sampling, quantisation, concept bank and clusterbook file."""
import numpy as np
import pytest
import torch

from mmuss.models.decode_heads.cause.clusterbook import load_clusterbook, save_clusterbook
from mmuss.models.decode_heads.cause.concept_bank import ConceptBank, bank_selection
from mmuss.models.decode_heads.cause.quantize import codeword_indices, grid_sample, quantise


def test_grid_sample_picks_the_ordered_patch_of_each_cell():
    maps = torch.arange(2 * 5 * 5, dtype=torch.float).reshape(1, 2, 5, 5)
    order = torch.tensor([[[0, 3], [2, 1]]])  # cells (0,0) (0,1) (1,0) (1,1), stride 2
    out = grid_sample(maps, order, 2)
    # cell (0,0) pos 0 -> (0,0); (0,1) pos 3 -> (1,3); (1,0) pos 2 -> (3,0); (1,1) pos 1 -> (2,3)
    expected = torch.tensor([[0 * 5 + 0, 1 * 5 + 3], [3 * 5 + 0, 2 * 5 + 3]], dtype=torch.float)
    assert torch.equal(out[0, 0], expected) and torch.equal(out[0, 1], expected + 25)


def test_grid_order_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match='expected \\(1, 2, 2\\)'):
        grid_sample(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 1, dtype=torch.long), 2)


def test_quantise_replaces_patches_by_the_most_cosine_similar_codeword():
    codebook = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    feats = torch.tensor([[5.0, 1.0], [0.1, 3.0], [-2.0, -1.5]]).T.reshape(1, 2, 1, 3)
    assert codeword_indices(feats, codebook).tolist() == [[[0, 1, 2]]]
    assert torch.equal(quantise(feats, codebook)[0, :, 0].T, codebook)


def test_bank_selection_keeps_half_of_each_concept_lowest_scores_first():
    codes = torch.tensor([0, 0, 2, 0, 1, 2, 0])
    scores = torch.tensor([0.9, 0.1, 0.5, 0.4, 0.3, 0.2, 0.6])
    index, rank, kept = bank_selection(codes, scores, 0.5, capacity=10)
    # concept 0 has 4 keys -> keeps 2 (scores 0.1, 0.4: indices 1, 3); concept 1 has 1 -> 0;
    # concept 2 has 2 -> keeps 1 (score 0.2: index 5)
    assert index.tolist() == [1, 3, 5] and rank.tolist() == [0, 1, 0]
    assert kept.tolist() == [2, 0, 1]
    index, rank, _ = bank_selection(codes, scores, 0.5, capacity=1)
    assert index.tolist() == [3, 5] and rank.tolist() == [1, 0]


def test_concept_bank_is_a_ring_of_the_latest_keys_per_concept():
    bank = ConceptBank(num_concepts=3, capacity=2, dims=2, keep_ratio=1.0)
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]])
    bank.update(torch.tensor([1, 1, 1]), keys)
    slots, concepts = bank.entries()
    assert concepts.tolist() == [-1, -1, 1, 1, -1, -1] and bank.length.tolist() == [0, 2, 0]
    stored = slots[concepts >= 0].float()
    assert bank.head.tolist() == [0, 1, 0] and bank.step.item() == 1
    # three keys for two slots: the ring ends holding the last two written (unit norm, fp16)
    written = {tuple(row) for row in stored.tolist()}
    assert len(written) == 2 and all(abs(np.hypot(*row) - 1) < 1e-3 for row in written)
    bank.update(torch.tensor([2]), torch.tensor([[0.0, -2.0]]))
    slots, concepts = bank.entries()
    assert concepts.tolist() == [-1, -1, 1, 1, 2, -1] and slots[4].tolist() == [0.0, -1.0]


def test_clusterbook_roundtrip_and_errors_name_the_file_and_shape(tmp_path):
    path = tmp_path / 'book.npy'
    book = torch.randn(4, 3)
    save_clusterbook(str(path), book)
    assert torch.equal(load_clusterbook(str(path), 4, 3), book)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['book.npy']
    with pytest.raises(ValueError, match=r'book\.npy.*shape \(4, 3\), expected \(8, 3\)'):
        load_clusterbook(str(path), 8, 3)
    with pytest.raises(FileNotFoundError, match=r'missing\.npy.*8×3'):
        load_clusterbook(str(tmp_path / 'missing.npy'), 8, 3)
