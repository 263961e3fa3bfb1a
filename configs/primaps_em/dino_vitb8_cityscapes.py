# Headline entry point: PriMaPs-EM on frozen DINO ViT-B/8, Cityscapes-27, the composition of
# primaps-em_dino-vit-b8_52e_cityscapes27-320.py under a short, stable path. It shares that
# config's cached proposals and trains into its own work dir (work_dirs/dino_vitb8_cityscapes).
# 1) Cache the proposals (frozen backbone, PriMaPs, dense CRF; a mask-id PNG per image):
#      python tools/precompute_primaps.py \
#          configs/primaps_em/dino_vitb8_cityscapes.py
# 2) Train: PCA init + 2 warm-up epochs of the cluster probe, then 50 epochs of EM:
#      python tools/train.py configs/primaps_em/dino_vitb8_cityscapes.py
# Scores: θ_M as 'cluster/*' (the checkpoint selection), θ_R as 'theta_r/*', linear probe.
_base_ = ['../_base_/primaps_em/cityscapes27.py', '../_base_/schedules/primaps_em.py',
          '../_base_/backbones/dino-vit-b8.py']
proposal_root = 'data/primaps/dino_vitb8_cityscapes'
model = dict(backbone=_base_.backbone)
train_dataloader = dict(dataset=dict(pipeline=[
    _base_.geometry, dict(type='LoadPrimapsMasks', proposal_root=proposal_root),
    _base_.augment_and_pack]))
primaps_precompute = dict(out_dir=proposal_root)
