"""MaskContrast's linear-probe and DINO-backbone configs on tiny models."""
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from .maskcontrast_toys import tiny_batch, tiny_model

REPO = Path(__file__).resolve().parents[3]
TINY_BACKBONE = dict(depth=18, stem_channels=8, base_channels=8)
TINY_HEAD = dict(in_channels=64, channels=16, embed_dims=8, dilations=(1, 2, 3))


def test_linear_probe_loads_pretrained_encoder_and_trains_only_the_probe(tmp_path):
    torch.manual_seed(0)
    pretrained = tiny_model()
    ckpt = tmp_path / 'pretrain.pth'
    torch.save({'state_dict': pretrained.state_dict()}, ckpt)
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'maskcontrast' / 'maskcontrast-linear_resnet50-d8_60e_voc-512.py'))
    cfg.model.backbone.update(TINY_BACKBONE, init_cfg=dict(type='Pretrained',
                                                           checkpoint=str(ckpt),
                                                           prefix='backbone.'))
    cfg.model.decode_head.update(TINY_HEAD, init_cfg=dict(type='Pretrained',
                                                          checkpoint=str(ckpt),
                                                          prefix='decode_head.'))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    head = model.decode_head
    for name, value in pretrained.decode_head.state_dict().items():
        assert torch.equal(head.state_dict()[name], value), name
    for name, value in pretrained.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[name], value), name
    assert not head.bottleneck.training and not head.dropout.training
    assert head.linear_probe.conv.weight.std() < 0.05

    batch = tiny_batch()
    for s in batch['data_samples']:
        s.gt_sem_seg = PixelData(data=torch.randint(0, 21, (1, 32, 32)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optim = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    data = model.data_preprocessor(batch, training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'decode.loss_linear_probe'}
    losses['decode.loss_linear_probe'].backward()
    optim.step()
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {'decode_head.linear_probe.conv.weight', 'decode_head.linear_probe.conv.bias'}
    pred = model.predict(data['inputs'], data['data_samples'])[0]
    assert pred.pred_sem_seg.data.max() < 21


def test_dino_variant_shares_the_frozen_backbone_and_moves_only_the_key_head():
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'maskcontrast' /
            'maskcontrast-dino-sal_dino-vit-s16_40e_voc-512.py'))
    cfg.model.backbone.update(arch=dict(embed_dims=32, num_layers=1, num_heads=2),
                              init_cfg=None)
    cfg.model.decode_head.update(in_channels=32, channels=16, embed_dims=8)
    cfg.model.update(queue_size=4, momentum=0.5)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    assert model.key_backbone is None and not model.backbone.training
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    key_head = [p.clone() for p in model.key_head.parameters()]
    data = model.data_preprocessor(tiny_batch(), training=True)
    with torch.no_grad():
        for p in model.decode_head.parameters():
            p.add_(0.1)
    model.teacher.steps.fill_(1)  # one optimiser step made: the key head follows it
    losses = model.loss(data['inputs'], data['data_samples'])
    (losses['loss_contrastive'] + losses['loss_saliency']).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(torch.equal(v, backbone[k]) for k, v in model.backbone.state_dict().items())
    for p, k0, q in zip(model.key_head.parameters(), key_head, model.decode_head.parameters()):
        assert torch.allclose(p, 0.5 * k0 + 0.5 * q.detach(), atol=1e-6)
    assert int(model.queue_ptr) == 2


def test_unsupervised_config_reads_the_moco_query_encoder_into_both_encoders(tmp_path):
    torch.manual_seed(1)
    source = tiny_model().backbone.state_dict()
    moco = {f'module.encoder_q.{k}': v + 1 for k, v in source.items()}
    moco.update({f'module.encoder_k.{k}': v - 1 for k, v in source.items()})
    moco['module.encoder_q.fc.0.weight'] = torch.zeros(4, 64)
    ckpt = tmp_path / 'moco_v2_800ep_pretrain.pth.tar'
    torch.save({'state_dict': moco, 'epoch': 800}, ckpt)
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'maskcontrast' /
            'maskcontrast-unsup-sal_resnet50-d8_40e_voc-512.py'))
    cfg.model.backbone.update(TINY_BACKBONE)
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    cfg.model.decode_head.update(TINY_HEAD)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name, value in source.items():
        assert torch.equal(model.backbone.state_dict()[name], value + 1), name
        assert torch.equal(model.key_backbone.state_dict()[name], value + 1), name
