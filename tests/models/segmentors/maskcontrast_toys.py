"""Tiny MaskContrast models and batches for tests, and the 2-process DDP worker.

The worker lives here, not in a test module, so that processes started with
``torch.multiprocessing.spawn`` can import it by a plain top-level name.
"""
import datetime
import os
import socket

import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ddp_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper

    import mmuss  # noqa: F401
    from mmuss.models.segmentors.maskcontrast import shuffle_across_ranks, unshuffle_across_ranks
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
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
    # shuffle-BN bookkeeping: rows 10·rank + i; each rank gets 3 of the 6, the inverse restores
    rows = torch.arange(3.0)[:, None] + 10 * rank
    shuffled, inverse = shuffle_across_ranks(rows)
    restored = unshuffle_across_ranks(shuffled * 2, inverse)
    torch.save(dict(queue=model.queue.clone(), ptr=int(model.queue_ptr), keys=captured[0],
                    shuffled=shuffled, restored=restored),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.barrier()  # a rank destroying its group while the other still tears down can hang
    dist.destroy_process_group()
