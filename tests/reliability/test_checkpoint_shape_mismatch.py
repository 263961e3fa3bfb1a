"""A checkpoint with the same keys but other tensor shapes is an error, not random weights."""
import pytest

WIDE = ['model.backbone.arch.embed_dims=48', 'model.decode_head.in_channels=48']


@pytest.fixture(scope='module')
def narrow_checkpoint(tmp_path_factory, tiny_data, train_tool):
    """A 2-iteration checkpoint of the tiny config (embed width 32)."""
    from ..tools.conftest import write_tiny_config
    tmp = tmp_path_factory.mktemp('narrow')
    cfg = write_tiny_config(tmp, tiny_data)
    train_tool.main([str(cfg), '--work-dir', str(tmp / 'w'), '--cfg-options',
                     'train_cfg.max_iters=2', 'experiment_name=narrow'])
    return tmp / 'w' / 'iter_2.pth'


SHAPES = r'backbone\.cls_token: checkpoint \(1, 1, 32\) vs model \(1, 1, 48\)'


def test_test_tool_refuses_other_shapes(tmp_path, tiny_data, tiny_config, test_tool,
                                        narrow_checkpoint):
    cfg = tiny_config(tiny_data)
    with pytest.raises(ValueError, match=SHAPES):
        test_tool.main([str(cfg), str(narrow_checkpoint), '--work-dir', str(tmp_path / 't'),
                        '--cfg-options', *WIDE, 'experiment_name=t'])


def test_load_from_and_resume_refuse_other_shapes(tmp_path, tiny_data, tiny_config, train_tool,
                                                  narrow_checkpoint):
    cfg = tiny_config(tiny_data)
    with pytest.raises(ValueError, match=SHAPES):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'l'), '--cfg-options', *WIDE,
                         f'load_from={narrow_checkpoint}', 'experiment_name=l'])
    with pytest.raises(ValueError, match=SHAPES):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'r'), '--resume',
                         str(narrow_checkpoint), '--cfg-options', *WIDE, 'experiment_name=r'])


def test_explicit_opt_in_loads_what_fits(tmp_path, tiny_data, tiny_config, test_tool,
                                         narrow_checkpoint):
    cfg = tiny_config(tiny_data)
    metrics = test_tool.main([str(cfg), str(narrow_checkpoint), '--allow-shape-mismatch',
                              '--work-dir', str(tmp_path / 't'), '--cfg-options', *WIDE,
                              'experiment_name=o'])
    assert 'cluster/mIoU' in metrics
