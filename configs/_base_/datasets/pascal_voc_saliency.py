# PASCAL VOC 2012 with offline saliency masks for MaskContrast pre-training
# (docs/methods/maskcontrast.md); validation is the K-means protocol of
# docs/methods/maskcontrast.md#equations-and-the-functions-implementing-them on VOC val.
# Layout (the reference's archive):
#   data/VOCdevkit/VOC2012/JPEGImages/<id>.jpg
#   data/VOCdevkit/VOC2012/saliency_supervised_model/<id>.png     (0/255, 255 = salient)
#   data/VOCdevkit/VOC2012/saliency_unsupervised_model/<id>.png
#   data/VOCdevkit/VOC2012/ImageSets/Segmentation/trainaug_saliency.txt
#       train_aug ids (VOC train + SBD, 10,582) that have both a JPEG and a saliency PNG
# Masks without a JPEG-side PNG fail loudly; masks whose views cover <= 1 % or >= 99 % of a
# crop are re-drawn 3 times and the image is then replaced by a random other one.
_base_ = ['./pascal_voc.py']
saliency_dir = 'saliency_supervised_model'
train_crop_size = 224
view_pipeline = [
    dict(type='SegRandomResizedCrop', crop_size=train_crop_size, scale=(0.2, 1.0),
         ratio=(3 / 4, 4 / 3)),
    dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
             hue=0.1)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
    dict(type='RandomFlip', prob=0.5),
]
pretrain_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyMask', saliency_dir=saliency_dir, threshold=255,
         min_component_fraction=0.01),
    dict(type='MaskContrastViews', view_pipeline=view_pipeline, min_foreground=0.01,
         max_foreground=0.99, max_tries=3),
    dict(type='PackMultiViewSegInputs', pixel_keys=['gt_saliency', 'gt_key_saliency']),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=_base_.data_root,
        ann_file='ImageSets/Segmentation/trainaug_saliency.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        pipeline=pretrain_pipeline))
val_evaluator = dict(type='MaskKMeansMetric', num_clusters=20, num_seeds=5, seed_base=1234,
                     pca_dims=32, batch_size=1000, prefix='kmeans')
test_evaluator = val_evaluator
