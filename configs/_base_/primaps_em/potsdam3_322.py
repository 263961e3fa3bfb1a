# ./potsdam3.py at 322x322 for /14 backbones (DINOv2): every crop_size-sized step
# (`size`, `crop_size`) at 322 (docs/methods/primaps_em.md#hyper-parameters).
_base_ = ['./potsdam3.py']
crop_size = 322
geometry = dict(type='Compose', transforms=[
    dict(step, **{k: crop_size for k in ('size', 'crop_size') if k in step})
    for step in _base_.geometry.transforms])
test_pipeline = [dict(step, **{k: crop_size for k in ('size', 'crop_size') if k in step})
                 for step in _base_.test_pipeline]
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
primaps_precompute = dict(
    dataloader=dict(dataset=dict(pipeline=[geometry, dict(type='PackSegInputs')])))
