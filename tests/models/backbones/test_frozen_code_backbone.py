"""FrozenCodeBackbone and CheckpointPrototypeInitHook (PriMaPs-EM on top of STEGO/HP)."""
from types import SimpleNamespace

import pytest
import torch
from mmseg.registry import HOOKS, MODELS

from ...stego_hp_toys import tiny_dino, toy_segmentor_cfg

HEAD = dict(type='StegoHead', channels=6, num_classes=3, num_clusters=4)
CODE_HEAD = dict(HEAD, in_channels=16)
BACKBONE = tiny_dino(16)


@pytest.fixture
def stego_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(toy_segmentor_cfg(HEAD))
    path = tmp_path / 'stego.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    return model.eval(), str(path)


def test_code_of_the_trained_head_is_the_feature_map(stego_checkpoint):
    trained, path = stego_checkpoint
    torch.manual_seed(1)  # different random init, overwritten by the checkpoint
    wrapper = MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=CODE_HEAD,
                                checkpoint=path))
    wrapper.init_weights()
    wrapper.eval()
    x = torch.randn(2, 3, 16, 16)
    out = wrapper(x)
    feats = trained.backbone(x)
    assert torch.equal(out.last, trained.decode_head(feats))
    assert out.last.shape == (2, 6, 4, 4) and torch.equal(out.attn, feats.attn)


def test_missing_or_foreign_checkpoint_fails_clearly(tmp_path):
    wrapper = MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=CODE_HEAD,
                                checkpoint=str(tmp_path / 'none.pth')))
    with pytest.raises(FileNotFoundError, match='none.pth'):
        wrapper.init_weights()
    torch.save({'state_dict': {'backbone.cls_token': torch.zeros(1)}}, tmp_path / 'dino.pth')
    wrapper.checkpoint = str(tmp_path / 'dino.pth')
    with pytest.raises(KeyError, match=r"dino\.pth has no trained head weights \['linear.weight'"):
        wrapper.init_weights()


def test_prototypes_are_copied_from_the_checkpoint_before_training(stego_checkpoint):
    trained, path = stego_checkpoint
    probe_head = dict(type='ClusterProbeHead', num_classes=3, num_clusters=4)
    student = MODELS.build(toy_segmentor_cfg(probe_head))  # 16-d features: wrong width
    hook = HOOKS.build(dict(type='CheckpointPrototypeInitHook', checkpoint=path))
    with pytest.raises(ValueError, match=r'is \(4, 6\), the head expects \(4, 16\)'):
        hook.before_train(SimpleNamespace(iter=0, model=student))
    head6 = MODELS.build(toy_segmentor_cfg(probe_head, embed_dims=6))  # the code's width
    hook.before_train(SimpleNamespace(iter=0, model=head6))
    assert torch.equal(head6.decode_head.cluster_probe.prototypes,
                       trained.decode_head.cluster_probe.prototypes)
    before = student.decode_head.cluster_probe.prototypes.clone()
    hook.before_train(SimpleNamespace(iter=5, model=student))  # resuming: untouched
    assert torch.equal(student.decode_head.cluster_probe.prototypes, before)


def test_a_file_without_state_dict_is_named(tmp_path):
    """Both readers of the SotA checkpoint refuse a file that holds no state dict, naming it."""
    path = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), path)
    wrapper = MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=CODE_HEAD,
                                checkpoint=str(path)))
    with pytest.raises(ValueError, match=r'tensor\.pth holds no state dict'):
        wrapper.init_weights()
    hook = HOOKS.build(dict(type='CheckpointPrototypeInitHook', checkpoint=str(path)))
    student = MODELS.build(toy_segmentor_cfg(dict(type='ClusterProbeHead', num_classes=3,
                                                  num_clusters=4)))
    with pytest.raises(ValueError, match=r'tensor\.pth holds no state dict'):
        hook.before_train(SimpleNamespace(iter=0, model=student))
