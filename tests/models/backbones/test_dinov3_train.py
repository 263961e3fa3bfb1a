"""PriMaPs-EM and HP end to end through tools/train.py on a tiny random DINOv3 backbone.

The method configs are the tiny ones of the tools tests, with their backbone
swapped for a 1-block DINOv3 ViT (RoPE, storage tokens, masked key bias) of
patch 4, so the runs exercise exactly what a DINOv3 config changes.
"""
import torch

from mmuss.datasets.synthetic_textures import generate_synthetic_textures
from mmuss.models.backbones import DinoV3VisionTransformer
from ...tools import test_primaps_em_train as primaps_e2e
from ...tools import test_stego_hp_train as hp_e2e

TINY_V3 = ("dict(type='DinoV3VisionTransformer', patch_size=4, {extra}"
           "arch=dict(embed_dims=16, num_layers=1, num_heads=2))")


def textures(tmp_path, num_train: int, num_val: int):
    root = tmp_path / 'textures'
    generate_synthetic_textures(str(root), num_train=num_train, num_val=num_val, size=32, seed=5)
    return root


def test_hp_trains_on_dinov3_attention(tmp_path):
    root = textures(tmp_path, 12, 4)
    body = hp_e2e.HP.replace(
        "dict(type='DinoVisionTransformer', patch_size=4, out_attn=True,\n"
        "                  arch=dict(embed_dims=16, num_layers=1, num_heads=2))",
        TINY_V3.format(extra='out_attn=True, '))
    assert 'DinoV3VisionTransformer' in body
    cfg = hp_e2e.write_config(tmp_path, root, body, pool_size=8)
    work = tmp_path / 'work'
    runner = hp_e2e.train_tool.main([cfg, '--work-dir', str(work),
                                     '--cfg-options', 'experiment_name=hp_dinov3'])
    assert isinstance(runner.model.backbone, DinoV3VisionTransformer)
    assert runner.iter == 6
    for key in ('train/decode.loss_hp', 'train/decode.loss_consistency', 'val/cluster/mIoU'):
        assert key in runner.message_hub.log_scalars, key
    first, last = hp_e2e.state(work / 'iter_2.pth'), hp_e2e.state(work / 'iter_6.pth')
    backbone = [k for k in first if k.startswith('backbone.')]
    assert 'backbone.rope_embed.periods' in backbone and 'backbone.storage_tokens' in backbone
    assert all(torch.equal(first[k], last[k]) for k in backbone)
    assert not torch.equal(first['decode_head.linear.weight'], last['decode_head.linear.weight'])


def test_primaps_em_trains_on_dinov3(tmp_path):
    root = textures(tmp_path, 24, 8)
    iters = primaps_e2e.WARMUP + 4
    cfg = primaps_e2e.write_config(tmp_path, root, True, iters)
    text = cfg.read_text()
    assert "backbone=dict(type='PatchColourBackbone')" in text
    cfg.write_text(text.replace("backbone=dict(type='PatchColourBackbone')",
                                'backbone=' + TINY_V3.format(extra='')))
    runner = primaps_e2e.train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'work'),
                                          '--cfg-options', 'experiment_name=primaps_dinov3'])
    assert isinstance(runner.model.backbone, DinoV3VisionTransformer)
    assert runner.iter == iters and bool(runner.model.decode_head.em_active)
    history = primaps_e2e.val_history(runner)
    assert len(history) == 2
