# PriMaPs-EM model on frozen DINO ViT-S/8 (docs/methods/primaps_em.md): θ_M/θ_R prototypes with
# the class-level focal loss, θ_M scored as 'cluster/*'. A config adds num_classes.
_base_ = ['./dino-vit-s8.py']
model = dict(
    decode_head=dict(
        type='PrimapsEMHead', in_channels=384, loss_em=dict(type='ClassFocalLoss', gamma=2.0),
        eval_prototypes='theta_m'))
