# Potsdam-3 (docs/datasets.md): IIC's labelled Potsdam crops, fine labels (impervious
# surface, building, low vegetation, tree, car, clutter) merged to roads and cars /
# buildings and clutter / trees and vegetation. mmseg's PotsdamDataset reads png files;
# convert STEGO's potsdam archive (imgs/<id>.mat, gt/<id>.mat, labelled_train.txt,
# labelled_test.txt) once with
#   python tools/dataset_converters/potsdam3_mat_to_png.py data/potsdam data/potsdam3
# which writes data/potsdam3/{img_dir,ann_dir}/{train,val}/<id>.png (fine labels 0..5,
# 255 = ignore). Protocol: ./uss_protocol.py. Never five-cropped.
_base_ = ['./uss_protocol.py']
dataset_type, data_root, num_classes = 'Potsdam3Dataset', 'data/potsdam3', 3
label_map = dict(type='LabelLUT', mapping='potsdam3', unmapped='error')
train_pipeline = [*_base_.loading, label_map, *_base_.train_geometry]
test_pipeline = [*_base_.loading, label_map, *_base_.test_geometry]
train_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=train_pipeline,
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train')))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=test_pipeline,
    data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
