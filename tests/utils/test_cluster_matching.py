"""Matching records: cluster map -> class map, validation, JSON round trip."""
import errno
import json

import pytest
import torch

from mmuss.utils.cluster_matching import (check_matching, clusters_to_classes,
                                          load_matching_json, matching_from_checkpoint,
                                          save_matching_json)


def test_clusters_to_classes_by_hand():
    clusters = torch.tensor([[0, 1], [2, 3]])
    assert clusters_to_classes(clusters, [2, -1, 0, 1]).tolist() == [[2, 255], [0, 1]]
    assert clusters_to_classes(clusters, [2, -1, 0, 1], ignore_index=9).tolist() == [[2, 9], [0, 1]]
    with pytest.raises(ValueError, match='Cluster id 3 .* 3 clusters'):
        clusters_to_classes(clusters, [0, 1, 2])


def test_check_matching_names_the_source_of_bad_records():
    good = dict(cluster_to_class=[1, 0, -1], classes=['a', 'b'], palette=[[1, 2, 3], [4, 5, 6]])
    assert check_matching(good, 3)['cluster_to_class'] == [1, 0, -1]
    with pytest.raises(ValueError, match='ck.pth: cluster_to_class has 3 entries .* 4 clusters'):
        check_matching(good, 4, source='ck.pth')
    with pytest.raises(ValueError, match='class id 2 is outside'):
        check_matching(dict(good, cluster_to_class=[2, 0, 1]))
    with pytest.raises(ValueError, match='1 palette colours for 2 classes'):
        check_matching(dict(good, palette=[[0, 0, 0]]))
    with pytest.raises(ValueError, match='cluster_to_class'):
        check_matching(dict(classes=['a']))


def test_json_round_trip_and_errors(tmp_path):
    record = dict(cluster_to_class=[1, 0], classes=['a', 'b'], palette=[], iter=7)
    path = tmp_path / 'm.json'
    save_matching_json(record, str(path))
    assert load_matching_json(str(path), 2) == record
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m.json']
    path.write_text('{broken')
    with pytest.raises(ValueError, match=r"m\.json' is not valid JSON"):
        load_matching_json(str(path))
    with pytest.raises(FileNotFoundError, match='absent.json'):
        load_matching_json(str(tmp_path / 'absent.json'))


def test_matching_from_checkpoint():
    assert matching_from_checkpoint({'state_dict': {}}) is None
    assert matching_from_checkpoint({'meta': {'uss_matching': {'x': 1}}}) == {'x': 1}


def test_a_full_disk_leaves_no_temporary_matching_file(tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(json, 'dump', no_space)
    with pytest.raises(OSError, match='No space left'):
        save_matching_json(dict(cluster_to_class=[0], classes=['a']), str(tmp_path / 'm.json'))
    assert list(tmp_path.iterdir()) == []
