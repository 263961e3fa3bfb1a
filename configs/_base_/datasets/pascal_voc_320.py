# PASCAL VOC 2012 val as CAUSE evaluates it (docs/methods/cause.md#pascal-voc): image and annotation
# both resized to a fixed 320x320 (aspect ratio not kept, PIL nearest for both, as the reference's
# Resize((320, 320), NEAREST)) and scored at 320x320; 21 classes incl. background, 255 (object
# boundaries, void) ignored; the 1,449 images of ImageSets/Segmentation/val.txt. Layout as
# pascal_voc.py; pascal_voc_322.py for /14 backbones. (MaskContrast's VOC protocol, pascal_voc.py,
# scores at the original size instead.)
_base_ = ['./pascal_voc.py']
crop_size = 320
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    _base_.label_map,
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False, interpolation='nearest',
         backend='pillow'),
    # a crop of the whole resized image: it only makes 320x320 the scored "original" (ori_shape)
    dict(type='CenterCropAsOriginal', crop_size=(crop_size, crop_size)),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(batch_size=16, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
