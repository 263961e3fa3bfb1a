# CAUSE-TR head on frozen DINO ViT-B/8 (docs/methods/cause.md), the same in steps 2 and 3:
# 90-d code, 1600 queries (40×40 patches at 320), 2048-d projection, 2048 concepts, EMA teacher,
# modularity-trained cluster probe; evaluated without flip/CRF (the paper's numbers:
# tools/test.py --flip --crf). A config adds num_classes, clusterbook_file and its step's head
# settings (step 2: the concept bank and loss_front; step 3: front_door=False).
# The decoder's positional queries fix the number of patches: (train_crop_size / patch)².
num_queries = 1600
_base_ = ['./dino-vit-b8.py']
model = dict(
    decode_head=dict(
        type='CauseTRHead', in_channels=768, channels=90, num_queries=num_queries,
        num_codebook=2048, proj_channels=2048, dropout_ratio=0.1, ema_momentum=0.99, grid_stride=4,
        cluster_alpha=3.0, loss_probe=dict(type='CauseModularityLoss', temperature=0.1)),
    test_cfg=dict(mode='whole', flip=False, crf=False))
