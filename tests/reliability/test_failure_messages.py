"""What the user reads when something is wrong: the file, the cause and the fix (issue 21).

Each test runs the real tool (tools/train.py, test.py, infer.py) on tiny data and checks the
message of one failure situation.
"""
import errno
import gc
import os
import pickle
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.fileio.backends import LocalBackend

from ..tools.conftest import REPO, free_port, load_tool
from ..tools.test_cause_train import MEDIATOR, write
from mmuss.utils.checkpoint import TRUST_ENV


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_data):
    """``(config, work dir)`` of one 4-iteration run: iter_2.pth and iter_4.pth."""
    from ..tools.conftest import write_tiny_config
    tmp = tmp_path_factory.mktemp('trained')
    cfg = write_tiny_config(tmp, tiny_data)
    load_tool('train').main([str(cfg), '--work-dir', str(tmp / 'work'), '--cfg-options',
                             'experiment_name=trained'])
    return cfg, tmp / 'work'


def copy_data(tiny_data, tmp_path):
    root = tmp_path / 'data'
    shutil.copytree(tiny_data, root)
    return root


def truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def test_truncated_label_png_names_the_file_and_stops(tmp_path, tiny_data, tiny_config,
                                                      train_tool):
    root = copy_data(tiny_data, tmp_path)
    label = sorted((root / 'ann_dir' / 'train').glob('*.png'))[3]
    truncate(label)
    with pytest.raises(OSError, match=rf'Cannot read {re.escape(str(label))}: image file is '
                       r'truncated.*The run stops here \(the sample is not skipped\)'):
        train_tool.main([str(tiny_config(root)), '--work-dir', str(tmp_path / 'work'),
                         '--cfg-options', 'experiment_name=truncated_label'])


def test_corrupt_checkpoint_by_path_is_named_as_incomplete(tmp_path, trained, test_tool,
                                                           train_tool):
    cfg, work = trained
    broken = tmp_path / 'broken.pth'
    shutil.copy(work / 'iter_4.pth', broken)
    truncate(broken)
    expected = rf'{re.escape(str(broken))} is not a complete checkpoint \(truncated\?\)'
    with pytest.raises(RuntimeError, match=expected):
        test_tool.main([str(cfg), str(broken), '--work-dir', str(tmp_path / 'test'),
                        '--cfg-options', 'experiment_name=broken_test'])
    with pytest.raises(RuntimeError, match=expected):
        train_tool.main([str(cfg), '--resume', str(broken), '--work-dir',
                         str(tmp_path / 'resume'), '--cfg-options', 'experiment_name=broken_r'])


def test_auto_resume_says_in_words_why_it_skipped_a_file(tmp_path, trained):
    cfg, work = trained
    copy = tmp_path / 'work'
    shutil.copytree(work, copy)
    (copy / 'last_checkpoint').write_text(str(copy / 'iter_4.pth'))
    truncate(copy / 'iter_4.pth')
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(cfg), '--work-dir', str(copy),
         '--resume', '--cfg-options', 'train_cfg.max_iters=6', 'experiment_name=auto'],
        env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1'), cwd=tmp_path,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (f'Resuming from {copy / "iter_2.pth"}, the newest intact checkpoint; skipped '
            f'{copy / "iter_4.pth"} (not a complete checkpoint (truncated?): '
            in proc.stdout + proc.stderr)


def test_empty_plain_base_seg_dataset_names_folder_and_suffix(tmp_path, tiny_config, train_tool):
    root = tmp_path / 'empty'
    for sub in ('img_dir/train', 'img_dir/val', 'ann_dir/train', 'ann_dir/val'):
        (root / sub).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"BaseSegDataset found no image ending in "
                       rf"'\.png' under '{re.escape(str(root))}/img_dir/train'"):
        train_tool.main([str(tiny_config(root)), '--work-dir', str(tmp_path / 'work'),
                         '--cfg-options', 'experiment_name=empty'])


def test_disk_full_during_a_save_removes_the_partial_file(tmp_path, tiny_data, tiny_config,
                                                          train_tool, monkeypatch, capfd):
    put, saves = LocalBackend.put, []

    def full_disk_put(self, obj, filepath):
        if '.pth' in str(filepath):
            saves.append(filepath)
            if len(saves) == 2:
                with open(filepath, 'wb') as f:
                    f.write(obj[:len(obj) // 3])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', full_disk_put)
    work = tmp_path / 'work'
    with pytest.raises(OSError, match=rf'No space left on {re.escape(str(work))}: the previous '
                       rf'checkpoint {re.escape(str(work / "iter_2.pth"))} is intact'):
        train_tool.main([str(tiny_config(tiny_data)), '--work-dir', str(work),
                         '--cfg-options', 'experiment_name=full'])
    assert sorted(p.name for p in work.iterdir() if p.suffix in ('.pth', '.tmp')) == [
        'iter_2.pth']
    assert torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=True)['state_dict']
    err = capfd.readouterr().err  # the prototype initialisation showed its progress
    assert re.search(r'PrototypeInitHook \(kmeans\): 100%.*1/1', err), err[-2000:]


class HoldsOpen:
    """Pickles as a reference to ``io.open``: a global outside torch's allow-list."""

    def __reduce__(self):
        import io
        return io.open, (os.devnull, )


def test_untrusted_checkpoint_is_refused_cleanly_and_infer_can_trust_it(tmp_path, trained,
                                                                         monkeypatch):
    cfg, work = trained
    foreign = tmp_path / 'foreign.pth'
    ckpt = torch.load(work / 'iter_4.pth', map_location='cpu', weights_only=True)
    torch.save(dict(ckpt, meta=dict(handle=HoldsOpen())), foreign)
    images = tmp_path / 'images'
    images.mkdir()
    cv2.imwrite(str(images / 'a.png'), np.full((32, 32, 3), 90, np.uint8))
    infer = load_tool('infer')
    args = [str(cfg), str(foreign), str(images), '--out', str(tmp_path / 'out')]
    monkeypatch.setenv(TRUST_ENV, '0')
    with pytest.raises(pickle.UnpicklingError) as info:
        infer.main(args)
    assert str(info.value).startswith(f'Refusing to load {foreign}: it holds the global io.open, '
                                      f'which is not among the types')
    assert 'rerun with --trust-checkpoint' in str(info.value)
    assert infer.main(args + ['--trust-checkpoint']) == 0
    assert (tmp_path / 'out' / 'labels' / 'a.png').is_file()


CHECKPOINT_TOOLS = ('train', 'test', 'infer', 'precompute_knns', 'precompute_primaps',
                    'maskcontrast_retrieval', 'maskcontrast_dino_saliency',
                    'model_converters/dino2mmuss')


@pytest.mark.parametrize('name', CHECKPOINT_TOOLS)
def test_every_checkpoint_reading_tool_takes_trust_checkpoint(name, capsys, monkeypatch):
    tool = load_tool(name)
    with pytest.raises(SystemExit):
        tool.parse_args(['--help'])
    assert '--trust-checkpoint' in capsys.readouterr().out


def test_checkpoint_reading_tools_are_all_listed():
    reading = sorted(str(p.relative_to(REPO / 'tools'))[:-3] for p in (REPO / 'tools').rglob('*.py')
                     if re.search(r'checkpoint', p.read_text()) and p.name != 'demo.py')
    assert reading == sorted(CHECKPOINT_TOOLS)


def test_tiny_training_image_names_the_file_and_the_fix(tmp_path, tiny_data, tiny_config,
                                                        train_tool):
    root = copy_data(tiny_data, tmp_path)
    tiny = root / 'img_dir' / 'train' / 'tiny.png'
    cv2.imwrite(str(tiny), np.full((3, 3, 3), 90, np.uint8))
    cv2.imwrite(str(root / 'ann_dir' / 'train' / 'tiny.png'), np.zeros((3, 3), np.uint8))
    cfg = tiny_config(root, custom_hooks="[dict(type='PrototypeInitHook', method='kmeans', "
                                         "num_batches=4)]")
    with pytest.raises(ValueError, match=rf'{re.escape(str(tiny))}: A 3x3 image is smaller than '
                       r'one 4x4 patch\. PrototypeInitHook cannot use it: remove it from the '
                       r'training set, or resize or crop'):
        train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'work'),
                         '--cfg-options', 'experiment_name=tiny'])


def test_mediator_on_a_too_small_grid_names_the_grid_and_stride(tmp_path, tiny_data,
                                                                train_tool):
    cfg = write(tmp_path / 'mediator.py', tiny_data, tmp_path / 'book.npy',
                MEDIATOR.format(grid=8))
    with pytest.raises(ValueError, match=r'grid sampling a 8x8 patch grid with grid_stride=8 '
                       r'leaves 1 patch\(es\) per image.*lower grid_stride'):
        train_tool.main([cfg, '--work-dir', str(tmp_path / 'work'),
                         '--cfg-options', 'experiment_name=mediator_grid'])


def test_overflowing_learning_rate_gets_the_guards_message(tmp_path, tiny_data, tiny_config,
                                                           train_tool):
    with pytest.raises(FloatingPointError, match=r'Non-finite update at iteration 1: the '
                       r'optimizer step overflowed.*learning rate.*1e\+38.*Lower the learning'):
        train_tool.main([str(tiny_config(tiny_data)), '--work-dir', str(tmp_path / 'work'),
                         '--cfg-options', 'optim_wrapper.optimizer.lr=1e38',
                         'experiment_name=lr_overflow'])


def test_train_help_says_what_amp_does(train_tool, capsys):
    with pytest.raises(SystemExit):
        train_tool.parse_args(['--help'])
    options = capsys.readouterr().out.split('\n  --')
    amp = ' '.join(next(o for o in options if o.startswith('amp')).split())
    assert 'bf16' not in amp
    assert 'fp16' in amp and 'CUDA GPU' in amp and 'refused on CPU' in amp


def test_teardown_frees_the_ddp_model_before_destroying_the_group(tmp_path, tiny_data,
                                                                  tiny_config, train_tool,
                                                                  monkeypatch):
    """One gloo rank through --launcher pytorch: when the group is destroyed, no DDP wrapper
    may be alive (one freed only at interpreter exit aborts gloo ~1 run in 20)."""
    from torch import distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)
    destroy, alive = dist.destroy_process_group, []

    def recording_destroy(*args, **kwargs):
        alive.append(sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects()))
        return destroy(*args, **kwargs)

    monkeypatch.setattr(dist, 'destroy_process_group', recording_destroy)
    runner = train_tool.main([str(tiny_config(tiny_data)), '--work-dir', str(tmp_path / 'work'),
                              '--launcher', 'pytorch', '--cfg-options',
                              'experiment_name=teardown', 'train_cfg.max_iters=2'])
    assert runner.iter == 2 and not dist.is_initialized()
    assert alive == [0]
