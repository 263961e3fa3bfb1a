# HP, Hidden Positives (Seong et al., CVPR 2023) on frozen DINO ViT-S/8, Cityscapes-27 (spec
# hp_stego §2-§8, HP's json/server/cityscapes.json). Train on five crops at 224 px (make them as
# described in the dataset config). Evaluate at 320 px with the dense CRF (no flip), online
# head, cluster + linear probes.
_base_ = [
    '../_base_/models/dino_vit-s8.py', '../_base_/datasets/cityscapes27_five_crop.py',
    '../_base_/default_runtime.py', '../_base_/schedules/hp_adamw.py'
]
model = dict(
    # STEGO/HP load the 300-epoch DINO ViT-S/8 teacher (spec hp_stego §1.1).
    backbone=dict(
        out_attn=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
            'dino_deitsmall8_300ep_pretrain.pth')),
    type='MultiViewSegmentor',
    data_preprocessor=dict(size=(224, 224)),
    decode_head=dict(
        type='HPHead', in_channels=384, channels=512, num_classes=27,
        dropout_ratio=0.1, pool_size=2048, ema_momentum=0.999, sigma=28.0,
        loss_hp=dict(type='HiddenPositiveLoss', temperature=0.6, base_temperature=0.07,
                     neg_ratio=0.02, chunk_size=784),
        loss_consistency=dict(type='PatchConsistencyLoss', loss_weight=0.05)),
    train_cfg=dict(extra_views=['img_aug']),
    test_cfg=dict(mode='whole', crf=True))
# HP's photometric view (spec §6): ColorJitter(0.3, 0.3, 0.3, 0.1), RandomGrayscale(0.2), blur
# 5×5 σ∈[0.1, 2] with p 0.5, applied to the normalised image and clamped to [0, 1] as HP does.
# (PhotometricView with ColorJitter/RandomGrayscale/RandomGaussianBlur jitters the uint8 image
# instead.)
photometric_view = dict(
    type='NormalisedPhotometricView', brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1,
    grayscale_prob=0.2, blur_prob=0.5, blur_kernel=5, blur_sigma=(0.1, 2.0))
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='five_crop27', unmapped='error'),
    dict(type='ResizeShortSide', size=224, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    photometric_view,
    dict(type='PackMultiViewSegInputs', view_keys=['img_aug']),
]
train_dataloader = dict(
    batch_size=64,
    drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
# 30 epochs over the crops; HP validates every 100 iterations, here once per epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='HPLambdaHook', warmup=50),
    dict(type='ReferencePoolHook', batch_size=64, renew_interval=20, num_workers=4),
]
