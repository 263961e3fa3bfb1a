# potsdam3 at 322x322 for /14 backbones (DINOv2): ./potsdam3.py with every crop_size-sized
# step (`size`, `crop_size`) at 322 (docs/datasets.md).
_base_ = ['./potsdam3.py']
crop_size = 322
train_pipeline, test_pipeline = (
    [dict(step, **{k: crop_size for k in ('size', 'crop_size') if k in step}) for step in steps]
    for steps in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader, val_dataloader, test_dataloader = (
    dict(dataset=dict(pipeline=p)) for p in (train_pipeline, test_pipeline, test_pipeline))
