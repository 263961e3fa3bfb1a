"""MaskContrast segmentor: key encoder momentum, queue, DDP enqueue, prediction."""
import importlib
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from mmseg.structures import SegDataSample

from mmuss.models.losses.maskcontrast_loss import mask_prototypes
from mmuss.models.segmentors.maskcontrast import write_queue_
from mmuss.models.utils.images import view_inputs

from .maskcontrast_toys import masks, tiny_batch, tiny_model


def test_key_encoder_gets_no_gradient_and_follows_the_momentum_rule():
    torch.manual_seed(0)
    model = tiny_model(momentum=0.9).train()
    with torch.no_grad():
        for p in list(model.key_backbone.parameters()) + list(model.key_head.parameters()):
            p.add_(torch.randn_like(p) * 0.1)
    query = [p.detach().clone() for p in
             list(model.backbone.parameters()) + list(model.decode_head.parameters())]
    key_params = list(model.key_backbone.parameters()) + list(model.key_head.parameters())
    key = [p.detach().clone() for p in key_params]
    data = model.data_preprocessor(tiny_batch(), training=True)
    model.teacher.steps.fill_(1)  # one optimiser step made: the key encoder follows it
    losses = model.loss(data['inputs'], data['data_samples'])
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(not p.requires_grad and p.grad is None for p in key_params)
    assert any(p.grad is not None for p in model.decode_head.parameters())
    for p, k0, q0 in zip(key_params, key, query):
        assert torch.allclose(p, 0.9 * k0 + 0.1 * q0, atol=1e-7)


def test_init_weights_starts_key_encoder_as_copy_of_query():
    model = tiny_model()
    for q, k in zip(model.decode_head.state_dict().values(), model.key_head.state_dict().values()):
        assert torch.equal(q, k)
    for q, k in zip(model.backbone.state_dict().values(),
                    model.key_backbone.state_dict().values()):
        assert torch.equal(q, k)


def test_write_queue_wraps_pointer():
    queue = torch.zeros(2, 4)
    ptr = write_queue_(queue, torch.tensor([[1.0, 1.0], [2.0, 2.0]]), 0)
    assert ptr == 2
    ptr = write_queue_(queue, torch.tensor([[3.0, 3.0], [4.0, 4.0]]), ptr)
    assert ptr == 0
    ptr = write_queue_(queue, torch.tensor([[5.0, 5.0], [6.0, 6.0]]), ptr)
    assert ptr == 2
    assert torch.equal(queue, torch.tensor([[5.0, 6.0, 3.0, 4.0]] * 2))
    with pytest.raises(ValueError, match='queue_size=4 must be a multiple'):
        write_queue_(queue, torch.zeros(3, 2), 0)


def test_training_steps_enqueue_key_prototypes_and_wrap():
    torch.manual_seed(0)
    model = tiny_model(queue_size=4, momentum=1.0).train()
    assert 'queue' in model.state_dict() and 'queue_ptr' in model.state_dict()
    initial = model.queue.clone()
    for step in range(3):
        data = model.data_preprocessor(tiny_batch(seed=step), training=True)
        model.loss(data['inputs'], data['data_samples'])
        keys = view_inputs(data['data_samples'], 'key_img', data['inputs'],
                           model.data_preprocessor)
        with torch.no_grad():  # m = 1: the key encoder is fixed, so prototypes are reproducible
            expected = mask_prototypes(model.key_embeddings(keys),
                                       masks(data['data_samples'], 'gt_key_saliency'))
        start = (2 * step) % 4
        assert torch.allclose(model.queue[:, start:start + 2], expected.T, atol=1e-6)
        assert int(model.queue_ptr) == (2 * step + 2) % 4
        if step == 0:
            assert torch.equal(model.queue[:, 2:], initial[:, 2:])


def test_empty_saliency_masks_give_finite_losses():
    torch.manual_seed(0)
    model = tiny_model().train()
    data = model.data_preprocessor(tiny_batch(), training=True)
    for s in data['data_samples']:
        s.gt_saliency.data.zero_()
        s.gt_key_saliency.data.zero_()
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_contrastive'].item() == 0.0


def test_predict_gives_saliency_mask_at_original_size_and_unit_prototype():
    torch.manual_seed(0)
    model = tiny_model().eval()
    sample = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(20, 40)))
    data = model.data_preprocessor(dict(inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8)],
                                        data_samples=[sample]))
    with torch.no_grad():
        model.decode_head.conv_saliency.weight.zero_()
        model.decode_head.conv_saliency.weight[0, 0] = 1.0
        out = model.predict(data['inputs'], data['data_samples'])[0]
    assert out.pred_sem_seg.data.shape == (1, 20, 40)
    emb, sal = model.query_outputs(data['inputs'])
    weights = sal * (sal > 0.5)
    expected = torch.nn.functional.normalize((emb[0] * weights[0]).sum(dim=(1, 2)), dim=0)
    assert torch.allclose(out.mask_embedding, expected, atol=1e-6)


def test_missing_key_view_names_the_pipeline_steps():
    model = tiny_model().train()
    data = model.data_preprocessor(tiny_batch(), training=True)
    del data['data_samples'][1].key_img
    with pytest.raises(KeyError, match='MaskContrastViews'):
        model.loss(data['inputs'], data['data_samples'])


def test_ddp_both_ranks_hold_the_same_queue_with_both_ranks_keys(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # workers import the toys by name
    toys = importlib.import_module('maskcontrast_toys')
    mp.spawn(toys.ddp_worker, args=(2, toys.free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pth') for r in range(2))
    assert torch.equal(r0['queue'], r1['queue'])
    assert r0['ptr'] == r1['ptr'] == 4
    assert not torch.allclose(r0['keys'], r1['keys'])
    assert torch.allclose(r0['queue'][:, 0:2], r0['keys'].T)
    assert torch.allclose(r0['queue'][:, 2:4], r1['keys'].T)
    both = torch.cat([r0['shuffled'], r1['shuffled']])[:, 0].sort().values
    assert torch.equal(both, torch.tensor([0.0, 1.0, 2.0, 10.0, 11.0, 12.0]))
    for rank, r in enumerate((r0, r1)):
        assert torch.equal(r['restored'], 2 * (torch.arange(3.0)[:, None] + 10 * rank))
