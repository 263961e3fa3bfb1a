# The USS protocol of Cityscapes-27, COCO-Stuff-27 and Potsdam-3
# (docs/datasets.md#protocol-cityscapes-27-coco-stuff-27-potsdam-3): shorter side -> crop_size
# then a crop_size² centre crop, scored at crop_size² (320; 322 for /14 backbones: the dataset's
# *_322.py); images and labels with PIL nearest (STEGO/HP, torchvision Resize on PIL images;
# PriMaPs resizes images bilinearly: configs/_base_/primaps_em/). ImageNet normalisation is the
# model's SegDataPreProcessor. A dataset base inserts its label map (`label_map`) after `loading`.
crop_size = 320
loading = [dict(type='LoadImageFromFile', imdecode_backend='pillow'), dict(type='LoadAnnotations')]
train_geometry = [
    dict(type='ResizeShortSide', size=crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_geometry = [
    dict(type='ResizeShortSide', size=crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCropAsOriginal', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=16, num_workers=4, persistent_workers=True,
                        sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(batch_size=16, num_workers=4, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
