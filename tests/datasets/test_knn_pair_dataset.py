"""KNNPairDataset: partner drawing and refusal of tables that do not fit the dataset."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmuss.datasets.synthetic_textures import generate_synthetic_textures


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('knn_textures')
    generate_synthetic_textures(str(root), num_train=6, num_val=1, size=16, seed=1)
    return root


def base_cfg(root):
    init_default_scope('mmseg')
    return dict(type='BaseSegDataset', data_root=str(root), img_suffix='.png',
                seg_map_suffix='.png', metainfo=dict(classes=tuple('abcdef')),
                data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                          dict(type='PackSegInputs')])


def write_table(path, nns, ids=None):
    arrays = dict(nns=np.asarray(nns, dtype=np.int64))
    if ids is not None:
        arrays['ids'] = np.asarray(ids)
    np.savez(path, **arrays)
    return str(path)


def build(root, knn_file, **kwargs):
    return DATASETS.build(dict(type='KNNPairDataset', dataset=base_cfg(root),
                               knn_file=knn_file, **kwargs))


def test_partner_is_drawn_from_ranks_one_to_num_neighbors(data_root, tmp_path):
    # rank 0 = self; ranks 1..2 of sample i are (i+1)%6 and (i+2)%6; rank 3 never drawn
    nns = [[i, (i + 1) % 6, (i + 2) % 6, (i + 3) % 6] for i in range(6)]
    ids = [f'{i:04d}' for i in range(6)]
    dataset = build(data_root, write_table(tmp_path / 'nns.npz', nns, ids), num_neighbors=2)
    np.random.seed(0)
    drawn = set()
    for _ in range(30):
        item = dataset[1]
        partner = item['data_samples'].metainfo['knn_index']
        drawn.add(partner)
        assert torch.equal(item['data_samples'].knn_img, dataset.dataset[partner]['inputs'])
    assert drawn == {2, 3}
    assert len(dataset) == 6 and dataset.metainfo['classes'] == tuple('abcdef')


def test_table_with_wrong_length_fails_naming_the_file(data_root, tmp_path):
    path = write_table(tmp_path / 'short.npz', [[0, 1]] * 5)
    with pytest.raises(ValueError, match=r'short\.npz has 5 rows but the dataset has 6'):
        build(data_root, path, num_neighbors=1)


def test_table_for_other_images_fails_naming_the_sample(data_root, tmp_path):
    ids = ['0000', '0001', '0002', 'other', '0004', '0005']
    path = write_table(tmp_path / 'ids.npz', [[i, (i + 1) % 6] for i in range(6)], ids)
    with pytest.raises(ValueError, match=r"sample 3 is '0003' in the dataset but 'other'"):
        build(data_root, path, num_neighbors=1)


def test_too_many_neighbours_and_bad_indices_fail(data_root, tmp_path):
    path = write_table(tmp_path / 'two.npz', [[i, (i + 1) % 6] for i in range(6)])
    with pytest.raises(ValueError, match='num_neighbors=2'):
        build(data_root, path, num_neighbors=2)
    bad = write_table(tmp_path / 'bad.npz', [[i, 6] for i in range(6)])
    with pytest.raises(ValueError, match=r'outside \[0, 6\)'):
        build(data_root, bad, num_neighbors=1)
    with pytest.raises(FileNotFoundError, match='missing.npz'):
        build(data_root, str(tmp_path / 'missing.npz'))
