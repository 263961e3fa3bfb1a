"""ClusterMatchingHook through tools/train.py and tools/test.py: the checkpoints carry the matching
of the evaluation of their own iteration, tools/test.py stores it too and --show-dir draws."""
import json

import pytest
import torch

from ...image_folder_toys import load_tool, write_tiny_config
from mmuss.datasets.synthetic_textures import generate_synthetic_textures
from mmuss.utils.cluster_matching import MATCHING_INFO_KEY

train_tool = load_tool('train')
test_tool = load_tool('test')
K = 6


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train 4 iterations on the unlabelled train images, validating on labelled val images
    at iterations 2 and 4 (checkpoints at 2 and 4, saved before each validation)."""
    root = tmp_path_factory.mktemp('matching')
    generate_synthetic_textures(str(root / 'data'), num_train=8, num_val=5, size=32, seed=2)
    cfg = write_tiny_config(root, root / 'data' / 'img_dir' / 'train', val_root=root / 'data',
                            num_clusters=K)
    work = root / 'work'
    runner = train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options',
                              'experiment_name=matching'])
    return dict(root=root, cfg=cfg, work=work,
                final=runner.message_hub.get_info('cluster/cluster_to_class'))


def stored(path):
    return torch.load(path, map_location='cpu', weights_only=False)['meta'].get('uss_matching')


def test_checkpoints_carry_the_matching_of_their_own_iteration(trained):
    work = trained['work']
    record = json.loads((work / 'cluster_to_class.json').read_text())
    assert record['iter'] == 4 and record['protocol'] == 'hungarian'
    assert record['cluster_to_class'] == list(trained['final'])
    assert record['classes'] == ['grass', 'sky', 'brick', 'sand', 'water', 'stone']
    assert len(record['palette']) == 6
    assert sorted(record['cluster_to_class']) == list(range(K))  # one-to-one for K = C
    assert stored(work / 'iter_4.pth') == record
    early = stored(work / 'iter_2.pth')
    assert early['iter'] == 2 and sorted(early['cluster_to_class']) == list(range(K))


def test_without_rewriting_the_checkpoint_lags_one_evaluation(trained, tmp_path):
    cfg = tmp_path / 'no_rewrite.py'
    cfg.write_text(f'_base_ = [{str(trained["cfg"])!r}]\n'
                   "custom_hooks = [dict(type='ClusterMatchingHook', rewrite_checkpoint=False)]\n")
    train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                     'experiment_name=no_rewrite'])
    assert stored(tmp_path / 'w' / 'iter_2.pth') is None
    assert stored(tmp_path / 'w' / 'iter_4.pth')['iter'] == 2


def test_test_tool_stores_the_matching_and_draws_with_it(trained, tmp_path):
    show = tmp_path / 'show'
    test_tool.main([str(trained['cfg']), str(trained['work'] / 'iter_4.pth'), '--work-dir',
                    str(tmp_path), '--show-dir', str(show), '--cfg-options',
                    'experiment_name=test_matching', 'default_hooks.visualization.interval=1',
                    'visualizer.name=test_matching'])  # a fresh visualiser in this process
    written = list(tmp_path.glob('*/cluster_to_class.json'))
    assert len(written) == 1
    record = json.loads(written[0].read_text())
    assert record['cluster_to_class'] == list(trained['final'])  # same weights, same data
    assert len(list(show.rglob('*.png'))) == 5
    from mmengine.logging import MessageHub
    published = MessageHub.get_current_instance().get_info(MATCHING_INFO_KEY)
    assert published == stored(trained['work'] / 'iter_4.pth')
