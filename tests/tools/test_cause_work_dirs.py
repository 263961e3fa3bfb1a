"""CAUSE steps 1 -> 2 -> 3 with --work-dir outside the current directory write nothing into it.

The mediator's clusterbook goes into its work dir (it went to ./work_dirs/<config>/ whatever
--work-dir said); steps 2-3 read it through `clusterbook_file`, step 3 reads step 2 through
`step2_work_dir` (silently ignored before), as configs/cause/README.md shows.
"""
from pathlib import Path

import numpy as np
import torch

from ..config_matrix import Sandbox, reduced_options
from mmengine.config import Config

STEPS = ('cause-mediator_dino-vit-s8_1e_cocostuff27-320', 'cause-tr_dino-vit-s8_2e_cocostuff27-320',
         'cause-tr-probe_dino-vit-s8_5e_cocostuff27-320')


def state(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def test_steps_with_work_dirs_elsewhere_leave_the_current_directory_empty(tmp_path):
    box = Sandbox(tmp_path / 'sandbox')
    cwd, runs = tmp_path / 'cwd', tmp_path / 'runs'
    cwd.mkdir()
    data_root = f'data_root={box.root}/data/coco_stuff164k'
    box.call('dataset_converters/five_crop', [
        box.root / 'configs/_base_/datasets/cocostuff27.py', '--split', 'train', '--name',
        'cocostuff27', '--cfg-options', data_root], cwd=cwd)
    book = runs / 'mediator' / 'clusterbook_2048.npy'
    extra = ([], [f'clusterbook_file={book}'],
             [f'clusterbook_file={book}', f'step2_work_dir={runs / "tr"}'])
    for stem, work_dir, options in zip(STEPS, ('mediator', 'tr', 'probe'), extra):
        config = box.root / 'configs' / 'cause' / f'{stem}.py'
        box.call('train', [config, '--work-dir', runs / work_dir, '--cfg-options', data_root,
                           *reduced_options(Config.fromfile(str(config))), *options], cwd=cwd)
    probe = box.root / 'configs' / 'cause' / f'{STEPS[2]}.py'
    checkpoint = (runs / 'probe' / 'last_checkpoint').read_text().strip()
    box.call('test', [probe, checkpoint, '--work-dir', runs / 'test', '--cfg-options', data_root,
                      *reduced_options(Config.fromfile(str(probe))),
                      f'clusterbook_file={book}'], cwd=cwd)
    assert sorted(Path(cwd).iterdir()) == []
    # step 2 used the mediator's clusterbook; step 3 started from step 2's head
    step2 = state((runs / 'tr' / 'last_checkpoint').read_text().strip())
    step3 = state(checkpoint)
    np.testing.assert_array_equal(step2['decode_head.clusterbook'].numpy(), np.load(book))
    assert torch.equal(step3['decode_head.head.query_pos'], step2['decode_head.head.query_pos'])
