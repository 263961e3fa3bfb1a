"""FrozenCodeBackbone and CheckpointPrototypeInitHook (PriMaPs-EM on top of STEGO/HP)."""
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import init_default_scope
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


def test_the_hook_reads_the_code_backbones_checkpoint_by_default(stego_checkpoint):
    """The on-top configs name the SotA checkpoint once: model.backbone.checkpoint."""
    trained, path = stego_checkpoint
    probe = dict(type='ClusterProbeHead', num_classes=3, num_clusters=4)
    code = dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=HEAD, checkpoint=path)
    student = MODELS.build(dict(toy_segmentor_cfg(probe), backbone=code, decode_head=probe))
    assert student.decode_head.in_channels == 6  # the code width, from the wrapper
    HOOKS.build(dict(type='CheckpointPrototypeInitHook')).before_train(
        SimpleNamespace(iter=0, model=student))
    assert torch.equal(student.decode_head.cluster_probe.prototypes,
                       trained.decode_head.cluster_probe.prototypes)
    plain = MODELS.build(toy_segmentor_cfg(dict(type='ClusterProbeHead', num_classes=3)))
    with pytest.raises(ValueError, match=r'set its `checkpoint` or model\.backbone\.checkpoint'):
        HOOKS.build(dict(type='CheckpointPrototypeInitHook')).before_train(
            SimpleNamespace(iter=0, model=plain))


CAUSE = dict(type='CauseTRHead', channels=5, num_classes=3, num_queries=16, num_codebook=6,
             proj_channels=7, front_door=False)
CAUSE_HEAD = dict(CAUSE, in_channels=16)


def cause_checkpoint(tmp_path, drop=(), extra=None):
    """A CAUSE-TR step-3 checkpoint (clusterbook set) without the entries starting with ``drop``."""
    torch.manual_seed(0)
    model = MODELS.build(toy_segmentor_cfg(CAUSE))
    model.decode_head.set_clusterbook(torch.randn(6, 16))
    state = {k: v for k, v in model.state_dict().items()
             if not k.startswith(tuple(f'decode_head.{d}' for d in drop))}
    state.update(extra or {})
    path = tmp_path / 'cause-tr.pth'
    torch.save({'state_dict': state}, path)
    return model.eval(), str(path)


def test_cause_tr_checkpoint_needs_the_ema_head_and_the_clusterbook(tmp_path):
    """The code is head_ema(quantise(F, clusterbook), F): a checkpoint lacking either is refused."""
    trained, path = cause_checkpoint(tmp_path)
    torch.manual_seed(1)
    wrapper = MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=CAUSE_HEAD,
                                checkpoint=path))
    wrapper.init_weights()
    wrapper.eval()
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(wrapper(x).last, trained.decode_head(trained.backbone(x)))
    for drop, key in ((('head_ema.', ), "'head_ema."), (('clusterbook', ), "'clusterbook'")):
        _, path = cause_checkpoint(tmp_path, drop=drop)
        wrapper = MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE,
                                    head=CAUSE_HEAD, checkpoint=path))
        with pytest.raises(KeyError, match=r'cause-tr\.pth has no trained head weights') as err:
            wrapper.init_weights()
        assert key in str(err.value) and 'CauseTRHead checkpoint' in str(err.value)
    # the student head and the probes are not part of the code
    _, path = cause_checkpoint(tmp_path, drop=('head.', 'cluster_probe.', 'linear_probe.'))
    MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=CAUSE_HEAD,
                      checkpoint=path)).init_weights()


def test_declared_code_weights_per_head():
    """STEGO/HP: the two projection branches (not HP's EMA copies); CAUSE: EMA head + book."""
    init_default_scope('mmseg')
    stego = MODELS.build(CODE_HEAD)
    branches = ['linear.weight', 'linear.bias', 'nonlinear.0.weight', 'nonlinear.0.bias',
                'nonlinear.2.weight', 'nonlinear.2.bias']
    assert stego.code_state_keys() == branches
    hp = MODELS.build(dict(CODE_HEAD, type='HPHead', pool_size=4))
    assert hp.code_state_keys() == branches
    linear_only = MODELS.build(dict(CODE_HEAD, nonlinear=False))
    assert linear_only.code_state_keys() == ['linear.weight', 'linear.bias']
    cause = MODELS.build(CAUSE_HEAD)
    keys = cause.code_state_keys()
    assert {'clusterbook', 'clusterbook_ready'} <= set(keys)
    assert {k.split('.')[0] for k in keys} == {'head_ema', 'clusterbook', 'clusterbook_ready'}
    mlp_cfg = {k: v for k, v in CAUSE_HEAD.items() if k != 'num_queries'}
    mlp = MODELS.build(dict(mlp_cfg, type='CauseMLPHead'))  # its code reads no clusterbook
    assert {k.split('.')[0] for k in mlp.code_state_keys()} == {'head_ema'}
    with pytest.raises(TypeError, match='ClusterProbeHead declares no code_state_prefixes'):
        MODELS.build(dict(type='FrozenCodeBackbone', backbone=BACKBONE,
                          head=dict(type='ClusterProbeHead', in_channels=16, num_classes=3)))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads /proc/self')
def test_the_concept_bank_of_a_step2_checkpoint_is_not_read(tmp_path):
    """A 128 MiB bank entry the front_door=False head lacks leaves the peak memory alone."""
    bank = torch.ones(64, 1024, 1024, dtype=torch.float16)  # 128 MiB
    _, path = cause_checkpoint(tmp_path, extra={'decode_head.bank.keys': bank})
    del bank
    wrapper = dict(type='FrozenCodeBackbone', backbone=BACKBONE, head=CAUSE_HEAD, checkpoint=path)
    script = f'''
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
import mmuss  # noqa
def peak_kib():
    return int(next(line for line in open('/proc/self/status')
                    if line.startswith('VmHWM')).split()[1])
init_default_scope('mmseg')
wrapper = MODELS.build({wrapper!r})
open('/proc/self/clear_refs', 'w').write('5')  # peak := current
before = peak_kib()
wrapper.init_weights()
print(peak_kib() - before)
'''
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, '-c', script], cwd=root, capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH=str(root)), check=True)
    grown_kib = int(out.stdout.strip().splitlines()[-1])
    assert grown_kib < 32 * 1024, f'peak memory grew by {grown_kib} KiB'
