# PriMaPs-EM on COCO-Stuff-27 at crop_size² (320; 322 for /14 backbones: cocostuff27_322.py;
# docs/methods/primaps_em.md#hyper-parameters): the model and data of the reference. A leaf adds
# a schedule (../schedules/primaps_em.py, or primaps_em_on_top.py), the backbone and
# `proposal_root` in the training pipeline:
#   [geometry, LoadPrimapsMasks(proposal_root), augment_and_pack]
_base_ = ['../models/primaps_em.py', '../datasets/cocostuff27.py', '../default_runtime.py',
          './common.py']
model = dict(decode_head=dict(num_classes=_base_.num_classes))
# Deterministic geometry shared by the pre-compute and the training pipeline (as the reference: one
# PIL bilinear shorter-side resize and one centre crop per image).
geometry = dict(type='Compose', transforms=[
    *_base_.loading, _base_.label_map,
    dict(type='ResizeShortSide', size=_base_.crop_size, interpolation='bilinear', backend='pillow'),
    dict(type='CenterCrop', crop_size=_base_.crop_size)])
# Evaluation (as the reference's): tensor-style resize (bilinear without antialiasing, nearest
# labels), centre crop, scored at crop_size².
test_pipeline = [
    *_base_.loading, _base_.label_map,
    dict(type='ResizeShortSide', size=_base_.crop_size, interpolation='bilinear', backend='cv2'),
    dict(type='CenterCropAsOriginal', crop_size=_base_.crop_size), dict(type='PackSegInputs')]
train_dataset = dict(
    type='COCOStuff27Dataset', data_root=_base_.data_root,
    ann_file='curated/train2017/Coco164kFull_Stuff_Coarse_7.txt',
    data_prefix=dict(img_path='images/train2017', seg_map_path='annotations/train2017'))
train_dataloader = dict(batch_size=32, drop_last=True, dataset=train_dataset,
                        sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_evaluator = test_evaluator = _base_.primaps_em_evaluator
primaps_precompute = dict(proposer=_base_.primaps_proposer, dataloader=dict(
    batch_size=32, num_workers=4,
    dataset=dict(train_dataset, pipeline=[geometry, dict(type='PackSegInputs')])))
