"""tools/test.py --show-dir on a centre-crop test pipeline, and --out DIR."""
import json

import numpy as np
import pytest
from PIL import Image

CROP_PIPELINE = ("[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), "
                 "dict(type='ResizeShortSide', size=24), "
                 "dict(type='CenterCropAsOriginal', crop_size=20), dict(type='PackSegInputs')]")


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory, tiny_data, train_tool):
    from .conftest import write_tiny_config
    tmp = tmp_path_factory.mktemp('outputs')
    cfg = write_tiny_config(tmp, tiny_data)
    train_tool.main([str(cfg), '--work-dir', str(tmp / 'w'), '--cfg-options',
                     'train_cfg.max_iters=2', 'experiment_name=outputs'])
    return tmp / 'w' / 'iter_2.pth'


def test_show_dir_draws_on_the_centre_crop(tmp_path, tiny_data, tiny_config, test_tool,
                                           checkpoint):
    cfg = tiny_config(tiny_data, test_pipeline=CROP_PIPELINE,
                      test_dataloader='dict(batch_size=2, dataset=dict(data_root=data_root, '
                      'pipeline=test_pipeline))')
    show = tmp_path / 'show'
    test_tool.main([str(cfg), str(checkpoint), '--work-dir', str(tmp_path), '--show-dir',
                    str(show), '--cfg-options', 'experiment_name=crop',
                    'visualizer.name=crop_show'])
    drawn = sorted(show.rglob('*.png'))
    assert len(drawn) == 7
    assert {Image.open(p).size for p in drawn} == {(40, 20)}  # ground truth | prediction


def test_out_writes_cluster_and_class_maps_and_metrics(tmp_path, tiny_data, tiny_config,
                                                       test_tool, checkpoint):
    out = tmp_path / 'out'
    metrics = test_tool.main([str(tiny_config(tiny_data)), str(checkpoint), '--work-dir',
                              str(tmp_path / 'w'), '--out', str(out), '--cfg-options',
                              'experiment_name=out'])
    stored = json.loads((out / 'metrics.json').read_text())
    assert stored['cluster/mIoU'] == pytest.approx(metrics['cluster/mIoU'])
    assert stored['linear/mIoU'] == pytest.approx(metrics['linear/mIoU'])
    names = sorted(p.name for p in (tiny_data / 'img_dir' / 'val').glob('*.png'))
    assert sorted(p.name for p in (out / 'clusters').glob('*.png')) == names
    assert sorted(p.name for p in (out / 'classes').glob('*.png')) == names
    matching = json.loads(next((tmp_path / 'w').glob('*/cluster_to_class.json')).read_text())
    lut = np.array([c if c >= 0 else 255 for c in matching['cluster_to_class']])
    for name in names:
        clusters = np.asarray(Image.open(out / 'clusters' / name))
        assert clusters.shape == (32, 32)
        assert np.array_equal(np.asarray(Image.open(out / 'classes' / name)), lut[clusters])
