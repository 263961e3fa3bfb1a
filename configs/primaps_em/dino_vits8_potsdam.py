# PriMaPs-EM (Hahn et al., TMLR 2024), frozen DINO ViT-S/8, Potsdam-3 (spec primaps part A).
# 1) Cache the proposals (frozen backbone, PriMaPs, dense CRF; a mask-id PNG per image):
#      python tools/precompute_primaps.py configs/primaps_em/dino_vits8_potsdam.py
# 2) Train: PCA init + 2 warm-up epochs of the cluster probe, then 50 epochs of EM:
#      python tools/train.py configs/primaps_em/dino_vits8_potsdam.py
# Scores: θ_M as 'cluster/*' (the checkpoint selection), θ_R as 'theta_r/*', linear probe.
_base_ = [
    '../_base_/models/dino_vit-s8.py', '../_base_/datasets/potsdam3.py',
    '../_base_/default_runtime.py', '../_base_/schedules/primaps_em.py'
]
crop_size = 320
proposal_root = 'data/primaps/dino_vits8_potsdam'
model = dict(
    type='MultiViewSegmentor',
    decode_head=dict(
        type='PrimapsEMHead', in_channels=384, num_classes=3, focal_gamma=2.0,
        eval_prototypes='momentum', student_view='img_student'),
    train_cfg=dict(extra_views=['img_student']),
    test_cfg=dict(mode='whole'))
# Deterministic geometry shared by the pre-compute and the training pipeline (A.2: one PIL
# bilinear shorter-side resize and one centre crop per image).
geometry = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='potsdam3', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='bilinear', backend='pillow'),
    dict(type='CenterCrop', crop_size=crop_size),
]
# Student view (A.6): blur always (kernel 21, σ ∈ [0.1, 2]); then with p=0.5 a ColorJitter(0.1)
# that fires with p=0.3, else a (luma) grayscale with p=0.1. Applied to the uint8 image, before
# normalisation (the reference applies it after, where torchvision's clamping distorts it,
# A.11-10).
student_view = dict(
    type='PhotometricView',
    key='img_student',
    transforms=[
        dict(type='RandomGaussianBlur', kernel_size=21, sigma=(0.1, 2.0), prob=1.0),
        dict(type='RandomChoice', transforms=[
            [dict(type='RandomApply', prob=0.3, transforms=[
                dict(type='ColorJitter', brightness=0.1, contrast=0.1, saturation=0.1,
                     hue=0.1)])],
            [dict(type='RandomGrayscale', prob=0.1, keep_channels=True,
                  channel_weights=(0.114, 0.587, 0.299), color_format='bgr')],
        ]),
    ])
train_pipeline = geometry + [
    dict(type='LoadPrimapsMasks', proposal_root=proposal_root),
    dict(type='RandomFlip', prob=0.5),
    student_view,
    dict(type='PackPrimapsInputs', view_keys=['img_student']),
]
# Evaluation (A.8): tensor-style resize (bilinear without antialiasing, nearest labels),
# centre crop, scored at 320×320.
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='potsdam3', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='bilinear', backend='cv2'),
    dict(type='CenterCropAsOriginal', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataset = dict(
    type='Potsdam3Dataset',
    data_root='data/potsdam3',
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=32,
    drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=train_dataset)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_theta_r_sem_seg', prefix='theta_r'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
primaps_precompute = dict(
    out_dir=proposal_root,
    proposer=dict(type='PriMaPsProposer', threshold=0.4, coverage=0.95, gain=10.0,
                  crf=dict(num_workers=8)),
    dataloader=dict(
        batch_size=32,
        num_workers=4,
        dataset=dict(train_dataset, pipeline=geometry + [dict(type='PackSegInputs')])))
