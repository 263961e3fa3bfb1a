# PriMaPs-EM pieces shared by every dataset (spec primaps A.3, A.6, A.8). Keys here are unique to
# this file, so a dataset base can inherit it beside the dataset, runtime and schedule bases.

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
# What follows the cached mask ids in the training pipeline: joint flip of image, labels and
# mask ids, the student view, packing.
augment_and_pack = dict(
    type='Compose',
    transforms=[
        dict(type='RandomFlip', prob=0.5),
        student_view,
        dict(type='PackPrimapsInputs', view_keys=['img_student']),
    ])
# θ_M as 'cluster/*' (the checkpoint selection), θ_R as 'theta_r/*', the linear probe.
primaps_em_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_theta_r_sem_seg', prefix='theta_r'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
primaps_proposer = dict(type='PriMaPsProposer', threshold=0.4, coverage=0.95, gain=10.0,
                        crf=dict(num_workers=8))
# DDP: the warm-up trains the cluster probe but not θ_R, EM trains θ_R but not the cluster probe,
# so each stage truly leaves parameters without gradient.
find_unused_parameters = True
