# PriMaPs-EM on COCO-Stuff-27 at 320×320 (docs/methods/primaps_em.md#hyper-parameters). A method
# config adds the backbone base, `proposal_root` and the training pipeline:
#   [geometry, LoadPrimapsMasks(proposal_root), augment_and_pack]
_base_ = [
    '../datasets/cocostuff27.py', '../default_runtime.py', '../schedules/primaps_em.py',
    './common.py'
]
crop_size = 320
# Deterministic geometry shared by the pre-compute and the training pipeline (as the reference: one
# PIL bilinear shorter-side resize and one centre crop per image).
geometry = dict(
    type='Compose',
    transforms=[
        dict(type='LoadImageFromFile', imdecode_backend='pillow'),
        dict(type='LoadAnnotations'),
        dict(type='LabelLUT', mapping='cocostuff27', unmapped='error'),
        dict(type='ResizeShortSide', size=crop_size, interpolation='bilinear', backend='pillow'),
        dict(type='CenterCrop', crop_size=crop_size),
    ])
# Evaluation (as the reference's): tensor-style resize (bilinear without antialiasing, nearest
# labels), centre crop, scored at crop_size².
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='cocostuff27', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='bilinear', backend='cv2'),
    dict(type='CenterCropAsOriginal', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataset = dict(
    type='COCOStuff27Dataset',
    data_root={{_base_.data_root}},
    ann_file='curated/train2017/Coco164kFull_Stuff_Coarse_7.txt',
    data_prefix=dict(img_path='images/train2017', seg_map_path='annotations/train2017'))
train_dataloader = dict(
    batch_size=32,
    drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=train_dataset)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = {{_base_.primaps_em_evaluator}}
test_evaluator = val_evaluator
primaps_precompute = dict(
    proposer={{_base_.primaps_proposer}},
    dataloader=dict(
        batch_size=32,
        num_workers=4,
        dataset=dict(train_dataset, pipeline=[geometry, dict(type='PackSegInputs')])))
