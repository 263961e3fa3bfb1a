"""MaskContrast segmentor: key encoder momentum, queue, DDP enqueue, prediction."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmuss.models.losses.mask_contrast_loss import mask_prototypes
from mmuss.models.segmentors.mask_contrast import write_queue_

TINY_RESNET = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                   strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True,
                   out_indices=(3, ))


def tiny_model(queue_size: int = 4, momentum: float = 0.9, **kwargs) -> torch.nn.Module:
    cfg = dict(
        type='MaskContrast',
        backbone=TINY_RESNET,
        decode_head=dict(type='MaskContrastHead', in_channels=64, channels=16, embed_dims=8,
                         dilations=(1, 2, 3), dropout_ratio=0.0),
        queue_size=queue_size, momentum=momentum,
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                               size=(32, 32)))
    cfg.update(kwargs)
    init_default_scope('mmseg')
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def tiny_batch(batch: int = 2, size: int = 32, seed: int = 0):
    """Raw ``inputs`` list and data samples with random views and square salient masks."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(batch):
        sal = torch.zeros(1, size, size, dtype=torch.long)
        sal[:, 4 + i:20 + i, 6:22] = 1
        key_sal = torch.zeros(1, size, size, dtype=torch.long)
        key_sal[:, 10:28, 2 + i:18 + i] = 1
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.set_field(torch.randint(0, 256, (3, size, size), generator=gen,
                                       dtype=torch.uint8), 'key_img')
        sample.set_data(dict(gt_saliency=PixelData(data=sal),
                             gt_key_saliency=PixelData(data=key_sal)))
        inputs.append(torch.randint(0, 256, (3, size, size), generator=gen, dtype=torch.uint8))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def masks(samples, name):
    return torch.stack([s.get(name).data[0] for s in samples])


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
        keys = model.key_images(data['data_samples'], data['inputs'])
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ddp_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper

    import mmuss  # noqa: F401
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.manual_seed(0)  # same initial model and queue on both ranks
    model = tiny_model(queue_size=8, momentum=0.5).train()
    captured = []
    enqueue = model.enqueue

    def spy(prototypes):
        captured.append(prototypes.clone())
        enqueue(prototypes)
    model.enqueue = spy
    ddp = MMDistributedDataParallel(module=model, broadcast_buffers=False)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    ddp.train_step(tiny_batch(seed=10 + rank), optim)
    torch.save(dict(queue=model.queue.clone(), ptr=int(model.queue_ptr), keys=captured[0]),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_ddp_both_ranks_hold_the_same_queue_with_both_ranks_keys(tmp_path):
    mp.spawn(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pth') for r in range(2))
    assert torch.equal(r0['queue'], r1['queue'])
    assert r0['ptr'] == r1['ptr'] == 4
    assert not torch.allclose(r0['keys'], r1['keys'])
    assert torch.allclose(r0['queue'][:, 0:2], r0['keys'].T)
    assert torch.allclose(r0['queue'][:, 2:4], r1['keys'].T)
