# PASCAL VOC 2012 val at 322x322 for /14 backbones (DINOv2): ./pascal_voc_320.py with every
# crop_size-sized step (`scale`, `crop_size`) at 322.
_base_ = ['./pascal_voc_320.py']
crop_size = 322
test_pipeline = [
    dict(step, **{k: (crop_size, crop_size) for k in ('scale', 'crop_size') if k in step})
    for step in _base_.test_pipeline]
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
