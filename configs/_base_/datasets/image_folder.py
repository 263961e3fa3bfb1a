# Your own images: every image under `data_root` (recursively, .jpg/.jpeg/.png/.bmp/.tif/
# .tiff/.webp, any case), no label files (mmuss.datasets.ImageFolderDataset). Training is
# label-free: set the head's `num_clusters` (and `num_classes` <= it) and `linear_probe=False`.
# There is no validation or test set: a config built on this file sets
#   val_cfg = None
#   test_cfg = None
# (the schedule bases define them), or adds val_dataloader/val_evaluator for a labelled
# subset (docs/own_images.md). `test_pipeline` is what tools/infer.py and mmuss.apis.inference use:
# the shorter side is resized to `crop_size`, the image is cropped to a multiple of the
# backbone's `patch_size` (the official ViTs drop the remainder; zero-padding would move the
# features) and predictions come back at the original image size.
dataset_type = 'ImageFolderDataset'
data_root = 'data/my_images'
train_crop_size = 224  # random training crops of this side
crop_size = 320  # evaluation and inference: the shorter side
patch_size = 8
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(16 * train_crop_size, train_crop_size),
         ratio_range=(1.0, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(train_crop_size, train_crop_size)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(16 * crop_size, crop_size), keep_ratio=True),
    dict(type='CropToPatchMultiple', size_divisor=patch_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path=''),
        pipeline=train_pipeline))
