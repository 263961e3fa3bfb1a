# PriMaPs-EM on top of STEGO (docs/methods/primaps_em.md): the prototypes are fitted to the code
# of a trained STEGO model (configs/stego/stego_dinov3-vit-s16_5k_cocostuff27-320.py) instead of
# the DINOv3 ViT-S/16 features, starting from its cluster centres (no PCA, no warm-up); the
# PriMaPs masks are the plain backbone's of
# primaps_em/primaps-em_dinov3-vit-s16_52e_cocostuff27-320.py (pre-compute them with that config).
# Another checkpoint: --cfg-options sota_checkpoint=CKPT (a file, a glob matching one, or a work
# dir).
_base_ = [
    '../_base_/primaps_em/cocostuff27.py',
    '../_base_/schedules/primaps_em_on_top.py',
    '../_base_/backbones/dinov3-vit-s16.py',
]
proposal_root = 'data/primaps/primaps-em_dinov3-vit-s16_cocostuff27'
sota_checkpoint = 'work_dirs/stego_dinov3-vit-s16_5k_cocostuff27-320/best_cluster_mIoU_iter_*.pth'
model = dict(backbone=dict(
    type='FrozenCodeBackbone', backbone=_base_.backbone, checkpoint=sota_checkpoint,
    head=dict(_base_.code_heads.stego, num_classes=_base_.num_classes)))
train_dataloader = dict(dataset=dict(pipeline=[
    _base_.geometry, dict(type='LoadPrimapsMasks', proposal_root=proposal_root),
    _base_.augment_and_pack]))
primaps_precompute = dict(out_dir=proposal_root,
                          model=dict(_base_.model, backbone=_base_.backbone))
