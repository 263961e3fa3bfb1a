"""CAUSE heads: shapes, EMA, gradients, stages, clusterbook errors."""
import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

from mmuss.models.decode_heads import CauseMediatorHead, CauseMLPHead, CauseTRHead, cause_tr_head
from mmuss.models.utils.backbone_output import BackboneOutput
from mmuss.models.decode_heads.cause.clusterbook import save_clusterbook
from mmuss.models.decode_heads.cause.quantize import codeword_indices, grid_order, grid_sample


def book_file(tmp_path, num=6, dims=8, seed=0):
    path = tmp_path / 'book.npy'
    save_clusterbook(str(path), torch.randn(num, dims, generator=torch.Generator().manual_seed(
        seed)))
    return str(path)


def make_head(tmp_path, kind='tr', **kwargs):
    cfg = dict(in_channels=8, channels=5, num_classes=3, clusterbook_file=book_file(tmp_path),
               num_codebook=6, proj_channels=7, grid_stride=2, bank_size=4)
    cfg.update(kwargs)
    head = CauseTRHead(num_queries=16, **cfg) if kind == 'tr' else CauseMLPHead(**cfg)
    head.init_weights()
    return head


def samples(batch=2, size=16):
    out = []
    for i in range(batch):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, size, size),
                                                         generator=torch.Generator()
                                                         .manual_seed(i)))
        out.append(sample)
    return out


def inputs(batch=2):
    return BackboneOutput([torch.randn(batch, 8, 4, 4, generator=torch.Generator()
                                       .manual_seed(1))])


def test_tr_head_shapes(tmp_path):
    head = make_head(tmp_path)
    feats = inputs()
    code = head(feats)
    assert code.shape == (2, 5, 4, 4)
    student, proj_ema, sampled = head.embeddings(feats[0], code)
    assert student.shape == (2, 5, 2, 2) and proj_ema.shape == (2, 7, 2, 2)
    assert sampled.shape == (2, 8, 2, 2)
    assert head.logits_from_code(code)['seg'].shape == (2, 3, 4, 4)
    assert head.head.query_pos.shape == (16, 8)
    with pytest.raises(ValueError, match='built for 16 patches.*6×6'):
        head(BackboneOutput([torch.randn(1, 8, 6, 6)]))


@pytest.mark.parametrize('kind', ['tr', 'mlp'])
def test_losses_and_gradients_reach_only_their_modules(tmp_path, kind):
    head = make_head(tmp_path, kind)
    head.train()
    losses = head.loss(inputs(), {}, samples())
    assert set(losses) == {'loss_front', 'loss_cluster_probe', 'loss_linear_probe'}

    def grads(name):
        head.zero_grad()
        losses = head.loss(inputs(), {}, samples())
        losses[name].backward()
        return {n for n, p in head.named_parameters() if p.grad is not None
                and p.grad.abs().sum() > 0}

    front = grads('loss_front')
    assert front and all(n.startswith(('head.', 'projection.')) for n in front)
    assert grads('loss_cluster_probe') == {'cluster_probe.prototypes'}
    assert grads('loss_linear_probe') <= {'linear_probe.conv.weight', 'linear_probe.conv.bias'}
    assert all(not p.requires_grad for n, p in head.named_parameters() if '_ema.' in n)


def test_probe_stage_trains_only_the_probes(tmp_path):
    head = make_head(tmp_path, 'tr', front_door=False)
    assert not hasattr(head, 'bank')
    trainable = {n for n, p in head.named_parameters() if p.requires_grad}
    assert trainable == {'cluster_probe.prototypes', 'linear_probe.conv.weight',
                         'linear_probe.conv.bias'}
    head.train()
    before = head.head_ema.projection.f1.weight.clone()
    assert set(head.loss(inputs(), {}, samples())) == {'loss_cluster_probe',
                                                         'loss_linear_probe'}
    assert torch.equal(before, head.head_ema.projection.f1.weight)


def test_cluster_probe_restarts_uniformly_in_one_over_k(tmp_path):
    protos = make_head(tmp_path).cluster_probe.prototypes
    assert protos.abs().max() <= 1 / 3


def test_missing_or_wrong_clusterbook_names_the_file_and_shape(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nope\.npy.*6×8'):
        make_head(tmp_path, clusterbook_file=str(tmp_path / 'nope.npy'))
    wrong = tmp_path / 'wrong.npy'
    np.save(wrong, np.zeros((5, 8), dtype=np.float32))
    with pytest.raises(ValueError, match=r'wrong\.npy.*\(5, 8\), expected \(6, 8\)'):
        make_head(tmp_path, clusterbook_file=str(wrong))
    head = make_head(tmp_path, clusterbook_file=None)
    with pytest.raises(RuntimeError, match='no clusterbook.*clusterbook_file'):
        head(inputs())


def test_mediator_trains_only_its_clusterbook():
    head = CauseMediatorHead(in_channels=8, num_classes=3, num_codebook=5, grid_stride=2)
    assert head.clusterbook.abs().max() <= 1 / 5
    feats = inputs()
    losses = head.loss(feats, {}, samples())
    assert set(losses) == {'loss_mod'}
    losses['loss_mod'].backward()
    assert [n for n, p in head.named_parameters() if p.grad is not None] == ['clusterbook']


def test_segmentor_training_step_leaves_the_backbone_without_gradient(tmp_path):
    from mmseg.registry import MODELS
    model = MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1]),
        backbone=dict(type='DinoVisionTransformer', patch_size=4,
                      arch=dict(embed_dims=8, num_layers=1, num_heads=2)),
        decode_head=dict(type='CauseTRHead', in_channels=8, channels=5, num_classes=3,
                         num_queries=16, clusterbook_file=book_file(tmp_path), num_codebook=6,
                         proj_channels=7, grid_stride=2, bank_size=4)))
    model.init_weights()
    model.train()
    losses = model.loss(torch.randn(2, 3, 16, 16), samples())
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.decode_head.head.query_pos.grad is not None
    assert model.decode_head.cluster_probe.prototypes.grad is not None


def test_primaps_em_backbone_runs_the_trained_cause_head(tmp_path):
    """PriMaPs-EM on top of CAUSE: FrozenCodeBackbone gives the EMA code of the checkpoint."""
    from mmseg.registry import MODELS
    head = make_head(tmp_path, 'tr')
    backbone_cfg = dict(type='DinoVisionTransformer', patch_size=4,
                        arch=dict(embed_dims=8, num_layers=1, num_heads=2))
    inner = MODELS.build(backbone_cfg).eval()
    state = {f'decode_head.{k}': v for k, v in head.state_dict().items()}
    state.update({f'backbone.{k}': v for k, v in inner.state_dict().items()})
    torch.save({'state_dict': state}, tmp_path / 'cause.pth')
    frozen = MODELS.build(dict(
        type='FrozenCodeBackbone', backbone=backbone_cfg, checkpoint=str(tmp_path / 'cause.pth'),
        head=dict(type='CauseTRHead', in_channels=8, channels=5, num_classes=3, num_queries=16,
                  num_codebook=6, proj_channels=7, front_door=False)))
    frozen.init_weights()
    frozen.eval()
    images = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        expected = head.eval()(BackboneOutput(list(inner(images))))
        assert torch.allclose(frozen(images)[0], expected, atol=1e-6)


def test_tr_student_code_at_the_grid_is_the_sampled_full_code(tmp_path):
    head = make_head(tmp_path, 'tr', in_channels=8)
    feats = torch.randn(3, 8, 4, 4, generator=torch.Generator().manual_seed(2))
    order = grid_order(3, 4, 4, 2, torch.Generator().manual_seed(3))
    head.eval()
    with torch.no_grad():
        full = head.code_of(head.head, feats)
        assert torch.allclose(head.student_code(feats, order), grid_sample(full, order, 2),
                              atol=1e-6)
        eval_code = head.student_code(feats, order)
    head.train()
    code = head.student_code(feats, order)
    assert code.shape == (3, 5, 2, 2)
    assert not torch.allclose(code, eval_code)  # dropout is on in training
    code.sum().backward()
    grads = {n for n, p in head.named_parameters() if p.grad is not None}
    assert grads == {n for n, _ in head.head.named_parameters(prefix='head')}


def test_tr_loss_assigns_the_concepts_once(tmp_path, monkeypatch):
    head = make_head(tmp_path, 'tr')
    head.train()
    calls = []

    def counting_indices(feats, codebook):
        calls.append(feats)
        return codeword_indices(feats, codebook)

    monkeypatch.setattr(cause_tr_head, 'codeword_indices', counting_indices)
    feats = inputs()
    head.loss(feats, {}, samples())
    assert len(calls) == 1 and calls[0] is feats[0]  # teacher and student share it
    head(feats)
    head(feats)
    assert len(calls) == 3 and head._memo is None  # outside a loss: no reuse, nothing kept


@pytest.mark.parametrize('kind', ['tr', 'mlp'])
def test_decoder_batch_changes_memory_not_the_code(tmp_path, kind):
    feats = BackboneOutput([torch.randn(3, 8, 4, 4, generator=torch.Generator().manual_seed(5))])
    order = grid_order(3, 4, 4, 2, torch.Generator().manual_seed(6))
    codes = []
    head = make_head(tmp_path, kind).eval()
    for decoder_batch in (1, 2, 8):
        head.decoder_batch = decoder_batch
        with torch.no_grad():
            codes.append((head(feats), head.student_code(feats[0], order)))
    for full, sampled in codes[1:]:
        assert torch.allclose(full, codes[0][0], atol=1e-6)
        assert torch.allclose(sampled, codes[0][1], atol=1e-6)
    assert torch.allclose(codes[0][1], grid_sample(codes[0][0], order, 2), atol=1e-6)


def saved_numel_and_grads(head, seed):
    """Loss, gradients and the elements autograd saves for backward during one training loss."""
    saved = []

    def pack(tensor):
        saved.append(tensor.numel())
        return tensor

    torch.manual_seed(seed)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        losses = head.loss(inputs(), {}, samples())
    total = sum(losses.values())
    total.backward()
    grads = {n: p.grad.clone() for n, p in head.named_parameters() if p.grad is not None}
    return total.detach(), grads, sum(saved)


def test_tr_recomputed_student_same_loss_and_gradients_less_saved(tmp_path):
    """Recomputing the student decoder in backward (same dropout masks) is memory, not result."""
    kept = make_head(tmp_path, 'tr', recompute_student=False).train()
    recomputed = make_head(tmp_path, 'tr').train()
    recomputed.load_state_dict(kept.state_dict())
    loss_kept, grads_kept, saved_kept = saved_numel_and_grads(kept, seed=7)
    loss_re, grads_re, saved_re = saved_numel_and_grads(recomputed, seed=7)
    assert torch.allclose(loss_re, loss_kept, atol=1e-6)
    assert grads_re.keys() == grads_kept.keys() and any(n.startswith('head.') for n in grads_re)
    for name, grad in grads_kept.items():
        assert torch.allclose(grads_re[name], grad, atol=1e-6), name
    assert saved_re < saved_kept / 2
