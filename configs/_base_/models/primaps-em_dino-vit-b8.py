# PriMaPs-EM model on frozen DINO ViT-B/8 (docs/methods/primaps_em.md): θ_M/θ_R prototypes with
# the class-level focal loss, θ_M scored as 'cluster/*'. A config adds num_classes.
_base_ = ['./dino-vit-b8.py']
model = dict(
    decode_head=dict(
        type='PrimapsEMHead', in_channels=768, loss_em=dict(type='ClassFocalLoss', gamma=2.0),
        eval_prototypes='theta_m'))
