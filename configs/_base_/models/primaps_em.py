# PriMaPs-EM model (docs/methods/primaps_em.md): θ_M/θ_R prototypes with the class-level focal
# loss, θ_M scored as 'cluster/*'.
_base_ = ['./frozen_backbone.py']
model = dict(decode_head=dict(type='PrimapsEMHead', eval_prototypes='theta_m',
                              loss_em=dict(type='ClassFocalLoss', gamma=2.0)))
