# PriMaPs-EM pieces shared by every dataset (docs/methods/primaps_em.md). Keys here are unique to
# this file, so a dataset base can inherit it beside the dataset, runtime and schedule bases.

# Student view (docs/methods/primaps_em.md): on the *normalised* image, as the reference, with
# torchvision's clamping: blur always (kernel 21, σ ∈ [0.1, 2]); then with p=0.5 a
# ColorJitter(0.1, 0.1, 0.1, 0.1) that fires with p=0.3, else a 3-channel grayscale
# (0.2989, 0.587, 0.114) that fires with p=0.1.
student_view = dict(
    type='NormalisedPhotometricView',
    key='img_student',
    order=('blur', 'jitter', 'grayscale'),
    blur_prob=1.0,
    blur_kernel=21,
    blur_sigma=(0.1, 2.0),
    jitter_or_grayscale=0.5,
    jitter_prob=0.3,
    brightness=0.1,
    contrast=0.1,
    saturation=0.1,
    hue=0.1,
    grayscale_prob=0.1)
# What follows the cached mask ids in the training pipeline: joint flip of image, labels and
# mask ids, the student view, packing.
augment_and_pack = dict(
    type='Compose',
    transforms=[
        dict(type='RandomFlip', prob=0.5),
        student_view,
        dict(type='PackMultiViewSegInputs', pixel_keys=['gt_primaps']),
    ])
# θ_M as 'cluster/*' (the checkpoint selection), θ_R as 'theta_r/*', the linear probe.
primaps_em_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_theta_r_sem_seg', prefix='theta_r'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
primaps_proposer = dict(type='PrimapsProposer', threshold=0.4, coverage=0.95, gain=10.0,
                        crf=dict(num_workers=8))
# DDP: the warm-up trains the cluster probe but not θ_R, EM trains θ_R but not the cluster probe,
# so each stage truly leaves parameters without gradient.
find_unused_parameters = True
# The code heads of the trained models PriMaPs-EM can sit on (a leaf's FrozenCodeBackbone with
# ../schedules/primaps_em_on_top.py): their type and code width (HP: 512, on Potsdam-3 256).
code_heads = dict(stego=dict(type='StegoHead', channels=70),
                  hp=dict(type='StegoHead', channels=512),
                  cause_tr=dict(type='CauseTRHead', channels=90, front_door=False))
