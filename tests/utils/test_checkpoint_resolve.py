"""resolve_checkpoint: a file, a glob matching one (a best checkpoint), or a run's work dir."""
import pytest

from mmuss.utils.checkpoint import last_checkpoint_of, resolve_checkpoint, state_under_prefix


def test_file_glob_and_work_dir(tmp_path):
    best = tmp_path / 'best_cluster_mIoU_iter_1500.pth'
    last = tmp_path / 'iter_2000.pth'
    best.write_bytes(b'b')
    last.write_bytes(b'l')
    (tmp_path / 'last_checkpoint').write_text(str(last))
    assert resolve_checkpoint(str(best), 'x') == str(best)
    assert resolve_checkpoint(str(tmp_path / 'best_cluster_mIoU_iter_*.pth'), 'x') == str(best)
    assert resolve_checkpoint(str(tmp_path), 'x') == str(last)


def test_a_moved_work_dir_still_names_its_last_checkpoint(tmp_path):
    (tmp_path / 'epoch_5.pth').write_bytes(b'c')
    (tmp_path / 'last_checkpoint').write_text('/old/place/epoch_5.pth')
    assert resolve_checkpoint(str(tmp_path), 'x') == str(tmp_path / 'epoch_5.pth')


def test_errors_name_the_key_and_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'sota_checkpoint.*no file matches.*best_\*'):
        resolve_checkpoint(str(tmp_path / 'best_*'), 'Hook (sota_checkpoint)')
    with pytest.raises(FileNotFoundError, match=r'step2_work_dir.*without last_checkpoint'):
        resolve_checkpoint(str(tmp_path), 'Hook (step2_work_dir)')
    with pytest.raises(FileNotFoundError, match=r'key.*gone\.pth.*does not exist'):
        resolve_checkpoint(str(tmp_path / 'gone.pth'), 'Hook (key)')
    (tmp_path / 'best_1.pth').write_bytes(b'1')
    (tmp_path / 'best_2.pth').write_bytes(b'2')
    with pytest.raises(ValueError, match=r'matches 2 files'):
        resolve_checkpoint(str(tmp_path / 'best_*.pth'), 'x')


def test_last_checkpoint_of_a_work_dir_without_or_with_an_empty_pointer(tmp_path):
    assert last_checkpoint_of(str(tmp_path)) is None
    (tmp_path / 'last_checkpoint').write_text('\n')
    assert last_checkpoint_of(str(tmp_path)) is None
    (tmp_path / 'last_checkpoint').write_text(f'{tmp_path}/iter_4.pth\n')
    assert last_checkpoint_of(str(tmp_path)) == f'{tmp_path}/iter_4.pth'


def test_state_under_prefix_drops_the_prefix_and_the_excluded_entries():
    state = {'decode_head.proj.weight': 1, 'decode_head.bank.0': 2,
             'decode_head.cluster_probe.prototypes': 3, 'backbone.decode_head.x': 4}
    assert state_under_prefix(state, 'decode_head.') == {
        'proj.weight': 1, 'bank.0': 2, 'cluster_probe.prototypes': 3}
    assert state_under_prefix(state, 'decode_head.', ('bank.', 'cluster_probe.')) == {
        'proj.weight': 1}
