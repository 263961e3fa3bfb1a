# Cityscapes-27 (docs/datasets.md#protocol-cityscapes-27-coco-stuff-27-potsdam-3): the 27 classes
# are labelIds 7..33 of the official gtFine *_labelIds.png (NOT mmseg's 19-class
# *_labelTrainIds.png); ids 0..6 are ignored. Layout (the official one):
#   data/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
#   data/cityscapes/gtFine/{train,val}/<city>/*_gtFine_labelIds.png
# Protocol: ./uss_protocol.py. The train split here is the full-resolution one with one centre
# crop per image (PriMaPs); STEGO/HP train on five crops: cityscapes27_five_crop.py.
_base_ = ['./uss_protocol.py']
dataset_type, data_root, num_classes = 'Cityscapes27Dataset', 'data/cityscapes', 27
label_map = dict(type='LabelLUT', mapping='cityscapes27', unmapped='error')
train_pipeline = [*_base_.loading, label_map, *_base_.train_geometry]
test_pipeline = [*_base_.loading, label_map, *_base_.test_geometry]
train_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=train_pipeline,
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=test_pipeline,
    data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')))
test_dataloader = val_dataloader
