# COCO-Stuff-27, the curated USS benchmark (docs/datasets.md): raw
# COCO-Stuff stuffthingmaps (fine ids 0..181, 255 = unlabeled; NOT mmseg's 171-class
# *_labelTrainIds.png) mapped to 27 coarse classes, on IIC's curated image lists (one id
# per line; give your own file with `ann_file`). Layout:
#   data/coco_stuff164k/images/{train2017,val2017}/<id>.jpg
#   data/coco_stuff164k/annotations/{train2017,val2017}/<id>.png
#   data/coco_stuff164k/curated/train2017/Coco164kFull_Stuff_Coarse.txt    (STEGO/HP train)
#   data/coco_stuff164k/curated/val2017/Coco164kFull_Stuff_Coarse_7.txt    (val)
# PriMaPs trains on curated/train2017/Coco164kFull_Stuff_Coarse_7.txt instead.
# Protocol: ./uss_protocol.py. STEGO/HP train on five crops: cocostuff27_five_crop.py.
_base_ = ['./uss_protocol.py']
dataset_type, data_root, num_classes = 'COCOStuff27Dataset', 'data/coco_stuff164k', 27
label_map = dict(type='LabelLUT', mapping='cocostuff27', unmapped='error')
train_pipeline = [*_base_.loading, label_map, *_base_.train_geometry]
test_pipeline = [*_base_.loading, label_map, *_base_.test_geometry]
train_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=train_pipeline,
    ann_file='curated/train2017/Coco164kFull_Stuff_Coarse.txt',
    data_prefix=dict(img_path='images/train2017', seg_map_path='annotations/train2017')))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=test_pipeline,
    ann_file='curated/val2017/Coco164kFull_Stuff_Coarse_7.txt',
    data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017')))
test_dataloader = val_dataloader
