# MaskContrast linear probe on PASCAL VOC 2012 (docs/methods/maskcontrast.md): the
# pre-trained query encoder (ResNet-50 + DeepLab head up to its 256-d map) frozen and in eval
# mode (BN statistics and dropout off); a new 1x1 conv 256 -> 21, N(0, 0.01) init, trained
# with cross-entropy on train_aug ground truth. SGD lr 0.1, momentum 0.9, wd 1e-4, batch 16,
# 60 epochs, lr x0.1 for epochs > 25 (0-based: epochs 0-25 at 0.1, 26-59 at 0.01, hence
# milestones=[26]); validated every epoch, the best epoch kept (chosen on val, as the
# reference does). `pretrained` is a MaskContrast pre-training
# checkpoint (its `backbone.` / `decode_head.` weights are loaded); on the command line
#   --cfg-options pretrained=CKPT
_base_ = ['../_base_/models/frozen_backbone.py', '../_base_/backbones/resnet50-d8.py',
          '../_base_/datasets/pascal_voc.py', '../_base_/default_runtime.py']
pretrained = 'work_dirs/maskcontrast-sup-sal_resnet50-d8_40e_voc-512/epoch_40.pth'
model = dict(
    data_preprocessor=dict(size_divisor=_base_.patch),
    backbone=dict(
        _base_.backbone,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    decode_head=dict(
        type='MaskContrastHead',
        in_channels=_base_.embed_dims,
        channels=256,
        embed_dims=32,
        dilations=(1, 12, 24, 36),
        num_classes=21,
        frozen=True,
        linear_probe=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='decode_head.')),
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    _base_.label_map,
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomScaleRotate', scale=(0.75, 1.25), degree=5, interpolation='bicubic',
         pad_val=0, seg_pad_val=0),
    dict(type='Resize', scale=(512, 512), keep_ratio=False, interpolation='bicubic'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(
        ann_file='ImageSets/Segmentation/trainaug.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        pipeline=train_pipeline))
val_evaluator = dict(type='HungarianIoUMetric', matching='none', prefix='linear')
test_evaluator = val_evaluator
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', milestones=[26], gamma=0.1, by_epoch=True)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1,
                    save_best='linear/mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
log_processor = dict(by_epoch=True)
