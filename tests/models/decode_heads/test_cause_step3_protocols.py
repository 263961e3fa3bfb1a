"""CAUSE step 3, one optimiser iteration: the sound protocol (frozen head) and the reference's.

The reference's ``fine_tuning_{mlp,tr}.py`` puts its whole segmentation module
(``head``, ``projection_head``, ``head_ema``, ``projection_head_ema``,
``linear``) in one Adam and clips the gradient norm of that module; the
linear probe's cross-entropy reaches ``head_ema`` undetached and the
modularity loss reads detached code, so ``head_ema`` and the linear probe carry
gradients and are clipped together, the cluster probe (its own Adam) is not.
The optimiser comes from the shipped step-3 config; gradients, clipping
coefficient and the Adam step are re-derived here by hand.
"""
import copy
import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmuss.models.decode_heads import CauseMLPHead, CauseTRHead
from mmuss.models.utils.backbone_output import BackboneOutput
from mmuss.models.decode_heads.cause.clusterbook import save_clusterbook

REPO = Path(__file__).resolve().parents[3]
STEP3 = REPO / 'configs' / 'cause' / 'cause-tr-probe_dino-vit-b8_5e_cocostuff27-320.py'
MAX_NORM = 1e-3  # far below the toy gradients' norm: the clipping is active
IGNORE = 255


class Segmentor(nn.Module):
    """Names the head's parameters ``decode_head.*``, as in the segmentor."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.decode_head = head


def make_head(tmp_path, kind: str, reference: bool):
    book = tmp_path / 'book.npy'
    save_clusterbook(str(book), torch.randn(6, 8, generator=torch.Generator().manual_seed(0)))
    cfg = dict(in_channels=8, channels=5, num_classes=3, clusterbook_file=str(book),
               num_codebook=6, proj_channels=7, grid_stride=0, dropout_ratio=0.0,
               front_door=False, train_head_ema=reference)
    torch.manual_seed(0)
    head = CauseTRHead(num_queries=16, **cfg) if kind == 'tr' else CauseMLPHead(**cfg)
    head.init_weights()
    with torch.no_grad():  # a step-2 head: student and teacher differ
        for p in head.head_ema.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return head.train()


def shipped_optim_wrapper(model: nn.Module):
    """The step-3 config's optimiser (CPU: plain OptimWrapper), clipping at MAX_NORM."""
    cfg = copy.deepcopy(Config.fromfile(str(STEP3)).optim_wrapper.to_dict())
    cfg.update(type='OptimWrapper', clip_grad=dict(max_norm=MAX_NORM))
    cfg.pop('loss_scale')
    return build_optim_wrapper(model, cfg), cfg


def batch():
    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 8, 4, 4, generator=gen)
    labels = torch.randint(0, 3, (2, 16, 16), generator=gen)
    labels[:, :3] = IGNORE
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        samples.append(sample)
    return feats, labels, samples


def hand_modularity(code: torch.Tensor, protos: torch.Tensor, tau: float = 0.1):
    """``−(1/B) Σ_b (1/e_b) Σ_ij W_ij max_k tanh(C_ik C_jk / τ)`` on ``B×D×h×w`` code."""
    f = F.normalize(code.flatten(2).transpose(1, 2), dim=-1)
    a = (f @ f.transpose(1, 2)).clamp(min=0)
    a = a - torch.diag_embed(torch.diagonal(a, dim1=1, dim2=2))
    d = a.sum(2, keepdim=True)
    e = a.sum((1, 2), keepdim=True)
    w = a - d @ d.transpose(1, 2) / e
    c = (f @ F.normalize(protos, dim=-1).T).clamp(min=0)  # B×N×K
    delta = torch.tanh(c[:, :, None, :] * c[:, None, :, :] / tau).amax(-1)
    return -((w / e) * delta).sum((1, 2)).mean()


def hand_mlp_gradients(head: CauseMLPHead, feats: torch.Tensor, labels: torch.Tensor,
                       reference: bool):
    """Raw gradients of both losses, restated with plain tensor operations."""
    named = {n: p.detach().clone().requires_grad_() for n, p in head.named_parameters()}

    def conv(x, name):
        return F.conv2d(x, named[name + '.weight'], named[name + '.bias'])

    code = conv(feats, 'head_ema.f1') + conv(F.relu(conv(feats, 'head_ema.f2.0')),
                                             'head_ema.f2.2')
    probe_in = code if reference else code.detach()
    logits = F.interpolate(conv(probe_in, 'linear_probe.conv'), size=labels.shape[-2:],
                           mode='bilinear', align_corners=False)
    ce = F.cross_entropy(logits, labels, ignore_index=IGNORE)
    mod = hand_modularity(code.detach(), named['cluster_probe.prototypes'])
    (ce + mod).backward()
    return {n: p.grad for n, p in named.items() if p.grad is not None}


def trainable(reference: bool):
    probes = ('cluster_probe.', 'linear_probe.')
    return probes + ('head_ema.', ) if reference else probes


@pytest.mark.parametrize('kind', ['mlp', 'tr'])
@pytest.mark.parametrize('reference', [False, True])
def test_one_step3_iteration(tmp_path, kind, reference):
    head = make_head(tmp_path, kind, reference)
    model = Segmentor(head)
    wrapper, cfg = shipped_optim_wrapper(model)
    assert tuple(cfg['clip_prefixes']) == ('decode_head.linear_probe.', 'decode_head.head_ema.')
    lr, wd = cfg['optimizer']['lr'], cfg['optimizer']['weight_decay']
    assert (lr, wd) == (4e-3, 1e-4)
    expect = trainable(reference)
    assert {n for n, p in head.named_parameters() if p.requires_grad} == {
        n for n, _ in head.named_parameters() if n.startswith(expect)}
    before = {n: p.detach().clone() for n, p in head.named_parameters()}

    feats, labels, samples = batch()
    losses = head.loss(BackboneOutput([feats]), {}, samples)
    assert set(losses) == {'loss_cluster_probe', 'loss_linear_probe'}
    wrapper.backward(sum(losses.values()))
    raw = {n: p.grad.clone() for n, p in head.named_parameters() if p.grad is not None}
    assert set(raw) == {n for n in before if n.startswith(expect)}
    assert all(g.abs().sum() > 0 for g in raw.values())
    if kind == 'mlp':
        hand = hand_mlp_gradients(head, feats, labels, reference)
        assert set(hand) == set(raw)
        for name, grad in hand.items():
            torch.testing.assert_close(raw[name], grad, rtol=1e-4, atol=1e-7, msg=name)

    # the reference clips head_ema + linear probe together, never the cluster probe
    clipped = [n for n in raw if n.startswith(('linear_probe.', 'head_ema.'))]
    norm = math.sqrt(sum(float(raw[n].double().pow(2).sum()) for n in clipped))
    coef = MAX_NORM / (norm + 1e-6)
    assert coef < 1
    wrapper.step()
    reported = MessageHub.get_current_instance().get_scalar('train/grad_norm').current()
    assert reported == pytest.approx(norm, rel=1e-5)
    for name, p in head.named_parameters():
        if name not in raw:  # frozen: no gradient, never moved (no weight decay either)
            assert p.grad is None and torch.equal(p, before[name]), name
            continue
        scale = coef if name in clipped else 1.0
        torch.testing.assert_close(p.grad, raw[name] * scale, rtol=1e-5, atol=1e-12, msg=name)
        # Adam's first step: p − lr·g'/(|g'| + ε), g' = clipped gradient + decay·p
        decay = 0.0 if name.startswith('cluster_probe.') else wd
        g = raw[name] * scale + decay * before[name]
        torch.testing.assert_close(p.detach(), before[name] - lr * g / (g.abs() + 1e-8),
                                   rtol=1e-5, atol=1e-7, msg=name)
    moved_ema = any(not torch.equal(p, before[f'head_ema.{n}'])
                    for n, p in head.head_ema.named_parameters())
    assert moved_ema == reference


def test_reference_mode_is_step3_only(tmp_path):
    book = tmp_path / 'book.npy'
    save_clusterbook(str(book), torch.randn(6, 8))
    with pytest.raises(ValueError, match='train_head_ema=True .* needs front_door=False'):
        CauseMLPHead(in_channels=8, channels=5, num_classes=3, clusterbook_file=str(book),
                     num_codebook=6, proj_channels=7, train_head_ema=True)


def test_reference_mode_predicts_without_gradient_at_test_time(tmp_path):
    head = make_head(tmp_path, 'mlp', True).eval()
    with torch.no_grad():
        code = head(BackboneOutput([batch()[0]]))
    assert not code.requires_grad
