# Cityscapes-27 training on STEGO's five crops (docs/methods/stego.md#quirks Q10), as STEGO and HP
# do. Make the crops once with
#   python tools/dataset_converters/five_crop.py configs/_base_/datasets/cityscapes27.py \
#       --split train --name cityscapes
# which writes data/cityscapes/cropped/cityscapes_five_crop_0.5/{img,label}/train/<n>.{jpg,png}
# (labels hold class + 1, 0 = ignore: LabelLUT 'five_crop27'). Each crop is resized (shorter side ->
# 224, nearest) and centre-cropped to 224. Evaluation stays on the uncropped val split at 320
# (cityscapes27.py).
_base_ = ['./cityscapes27.py']
train_crop_size = 224
train_pipeline = [*_base_.loading, dict(type='LabelLUT', mapping='five_crop27', unmapped='error'),
                  *[dict(step, **{k: train_crop_size for k in ('size', 'crop_size') if k in step})
                    for step in _base_.train_geometry]]
train_dataloader = dict(dataset=dict(
    img_suffix='.jpg',
    seg_map_suffix='.png',
    data_prefix=dict(
        img_path='cropped/cityscapes_five_crop_0.5/img/train',
        seg_map_path='cropped/cityscapes_five_crop_0.5/label/train'),
    pipeline=train_pipeline))
