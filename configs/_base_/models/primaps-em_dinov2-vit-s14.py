# PriMaPs-EM model on frozen DINOv2 ViT-S/14 (docs/methods/primaps_em.md): θ_M/θ_R prototypes with
# the class-level focal loss, θ_M scored as 'cluster/*'. A config adds num_classes.
_base_ = ['./dinov2-vit-s14.py']
model = dict(
    decode_head=dict(
        type='PrimapsEMHead', in_channels=384, loss_em=dict(type='ClassFocalLoss', gamma=2.0),
        eval_prototypes='theta_m'))
