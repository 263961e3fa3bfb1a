# HP's training data on five-crop datasets (Cityscapes-27, COCO-Stuff-27;
# docs/methods/stego.md#quirks Q10, docs/methods/hp.md#hyper-parameters): 224-px crops, the
# photometric view, batch 64. Keys are unique to this file, so a method config lists it beside the
# dataset base and sets
#   train_dataloader = {{_base_.hp_five_crop_loader}}
# HP's photometric view (docs/methods/hp.md#quirks Q10): ColorJitter(0.3, 0.3, 0.3, 0.1),
# RandomGrayscale(0.2), blur 5×5 σ∈[0.1, 2] with p 0.5, applied to the normalised image and clamped
# to [0, 1] as HP does.
hp_photometric_view = dict(
    type='NormalisedPhotometricView', brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1,
    grayscale_prob=0.2, blur_prob=0.5, blur_kernel=5, blur_sigma=(0.1, 2.0))
hp_five_crop_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='five_crop27', unmapped='error'),
    dict(type='ResizeShortSide', size=224, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    hp_photometric_view,
    dict(type='PackMultiViewSegInputs'),
]
hp_five_crop_loader = dict(
    batch_size=64,
    drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=hp_five_crop_pipeline))
