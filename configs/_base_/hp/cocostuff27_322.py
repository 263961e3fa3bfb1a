# ./cocostuff27.py evaluated at 322x322 for /14 backbones (DINOv2): every crop_size-sized
# step of the test pipeline at 322 (the training crops keep train_crop_size).
_base_ = ['./cocostuff27.py']
crop_size = 322
test_pipeline = [dict(step, **{k: crop_size for k in ('size', 'crop_size') if k in step})
                 for step in _base_.test_pipeline]
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
