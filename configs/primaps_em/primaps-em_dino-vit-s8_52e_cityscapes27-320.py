# PriMaPs-EM (Hahn et al., TMLR 2024), frozen DINO ViT-S/8, Cityscapes-27
# (docs/methods/primaps_em.md). 1) Cache the proposals (frozen backbone, PriMaPs, dense CRF; a
# mask-id PNG per image):
#      python tools/precompute_primaps.py \
#          configs/primaps_em/primaps-em_dino-vit-s8_52e_cityscapes27-320.py
# 2) Train: PCA init + 2 warm-up epochs of the cluster probe, then 50 epochs of EM:
#      python tools/train.py configs/primaps_em/primaps-em_dino-vit-s8_52e_cityscapes27-320.py
# Scores: θ_M as 'cluster/*' (the checkpoint selection), θ_R as 'theta_r/*', linear probe.
_base_ = [
    '../_base_/primaps_em/cityscapes27.py',
    '../_base_/schedules/primaps_em.py',
    '../_base_/backbones/dino-vit-s8.py',
]
model = dict(backbone=_base_.backbone)
proposal_root = 'data/primaps/dino_vits8_cityscapes'
train_dataloader = dict(dataset=dict(pipeline=[
    _base_.geometry, dict(type='LoadPrimapsMasks', proposal_root=proposal_root),
    _base_.augment_and_pack]))
primaps_precompute = dict(out_dir=proposal_root)
