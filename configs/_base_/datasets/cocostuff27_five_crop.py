# COCO-Stuff-27 training on STEGO's five crops (docs/methods/stego.md#quirks Q10), as STEGO and HP
# do. Make the crops once with
#   python tools/dataset_converters/five_crop.py configs/_base_/datasets/cocostuff27.py \
#       --split train --name cocostuff27
# which writes data/coco_stuff164k/cropped/cocostuff27_five_crop_0.5/{img,label}/train/
# <n>.{jpg,png} (labels hold class + 1, 0 = ignore: LabelLUT 'five_crop27'). Each crop is resized
# (shorter side -> 224, nearest) and centre-cropped to 224. Evaluation stays on the uncropped
# curated val list at 320 (cocostuff27.py).
_base_ = ['./cocostuff27.py']
train_crop_size = 224
train_pipeline = [*_base_.loading, dict(type='LabelLUT', mapping='five_crop27', unmapped='error'),
                  *[dict(step, **{k: train_crop_size for k in ('size', 'crop_size') if k in step})
                    for step in _base_.train_geometry]]
train_dataloader = dict(dataset=dict(
    ann_file='',
    data_prefix=dict(
        img_path='cropped/cocostuff27_five_crop_0.5/img/train',
        seg_map_path='cropped/cocostuff27_five_crop_0.5/label/train'),
    pipeline=train_pipeline))
