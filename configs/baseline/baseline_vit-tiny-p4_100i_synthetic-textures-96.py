# `make demo`: the DINO-baseline method (cosine cluster probe on frozen ViT features) on the
# embedded synthetic textures dataset, on CPU. No weights can be downloaded offline, so the ViT is
# randomly initialised (fixed seed): this demonstrates the pipeline, not DINO's features.
_base_ = [
    '../_base_/models/baseline.py', '../_base_/datasets/synthetic_textures.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/frozen_probe_2k.py'
]
num_classes = 6
model = dict(
    backbone=dict(
        type='DinoVisionTransformer',
        arch=dict(embed_dims=96, num_layers=4, num_heads=3),
        patch_size=4,
        img_size=96,
        init_cfg=None),
    decode_head=dict(num_classes=num_classes, linear_probe=True))
custom_hooks = [dict(type='PrototypeInitHook', method='kmeans', num_batches=4)]
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-3))
train_cfg = dict(max_iters=100, val_interval=100)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=100, max_keep_ckpts=1))
# Evaluation and tools/infer.py crop images to a multiple of the patch (never zero-pad them).
patch_size = 4
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CropToPatchMultiple', size_divisor=patch_size),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
