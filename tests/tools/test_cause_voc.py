"""CAUSE-TR on PASCAL VOC through the user's commands: super crops, then the shipped step 1-3
configs (tiny random backbone and clusterbook swapped in), tools/train.py and tools/test.py."""
from pathlib import Path

import numpy as np
import pytest
import torch

from ..voc_toys import voc_tree
from .conftest import load_tool

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / 'configs' / 'cause'
STEPS = ('cause-mediator_dino-vit-s8_1e_voc-320', 'cause-tr_dino-vit-s8_2e_voc-320',
         'cause-tr-probe_dino-vit-s8_5e_voc-320')
# a random ViT with 16-px patches: 20×20 patches at 320 px, 8 concepts, 5 bank slots
TINY = '''
_base_ = [{shipped!r}]
data_root = {root!r}
model = dict(
    backbone=dict(_delete_=True, type='DinoVisionTransformer', patch_size=16,
                  arch=dict(embed_dims=16, num_layers=1, num_heads=2)),
    decode_head=dict(in_channels=16, num_codebook=8{head}))
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
'''
HEAD = ', channels=6, proj_channels=12, num_queries=400'
EVAL = '''
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
'''
CPU = ['optim_wrapper.type=OptimWrapper', 'optim_wrapper.loss_scale=None']


@pytest.mark.slow
def test_voc_super_crops_then_three_steps_then_test(tmp_path, monkeypatch):
    root = tmp_path / 'data' / 'VOCdevkit' / 'VOC2012'
    voc_tree(root, splits=('train', 'val'))
    load_tool('dataset_converters/five_crop').main([
        str(REPO / 'configs' / '_base_' / 'datasets' / 'pascal_voc.py'), '--split', 'train',
        '--name', 'pascalvoc', '--crop-type', 'super', '--cfg-options', f'data_root={root}'])
    monkeypatch.chdir(tmp_path)  # the shipped work_dirs/... chain, as a user runs it
    configs = []
    for k, name in enumerate(STEPS):
        body = TINY.format(shipped=str(SHIPPED / f'{name}.py'), root=str(root),
                           head=HEAD if k else '')
        configs.append(tmp_path / f'{name}.py')
        configs[-1].write_text(body + (EVAL if k else ''))
    train, test = load_tool('train'), load_tool('test')
    runners = [train.main([str(cfg), '--work-dir', f'work_dirs/{name}', '--cfg-options', *CPU])
               for cfg, name in zip(configs, STEPS)]
    book = np.load(tmp_path / 'work_dirs' / STEPS[0] / 'clusterbook_2048.npy')
    assert book.shape == (8, 16)
    assert runners[0].iter == 7  # 100 crops, batch 16
    step2 = torch.load(tmp_path / 'work_dirs' / STEPS[1] / 'epoch_1.pth', weights_only=False)
    assert torch.equal(step2['state_dict']['decode_head.clusterbook'], torch.from_numpy(book))
    scalars = runners[2].message_hub.log_scalars
    assert 'val/cluster/mIoU' in scalars and 'train/decode.loss_front' not in scalars
    metrics = test.main([str(configs[2]), f'work_dirs/{STEPS[2]}/epoch_1.pth', '--work-dir',
                         'work_dirs/test', '--cfg-options', 'experiment_name=voc_test'])
    assert metrics['cluster/mIoU'] == runners[2].message_hub.get_scalar(
        'val/cluster/mIoU').current()
    assert 0 <= metrics['linear/mIoU'] <= 100
