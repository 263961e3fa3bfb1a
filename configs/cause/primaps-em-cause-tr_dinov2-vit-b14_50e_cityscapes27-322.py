# PriMaPs-EM on top of CAUSE-TR (docs/methods/primaps_em.md): the prototypes are fitted to the
# code of a trained CAUSE-TR model
# (configs/cause/cause-tr-probe_dinov2-vit-b14_5e_cityscapes27-322.py) instead of the DINOv2
# ViT-B/14 features, starting from its cluster centres (no PCA, no warm-up); the PriMaPs masks are
# the plain backbone's of primaps_em/primaps-em_dinov2-vit-b14_52e_cityscapes27-322.py
# (pre-compute them with that config). CAUSE-TR's queries: (crop_size / patch)², the patch grid it
# was trained on. Another checkpoint: --cfg-options sota_checkpoint=CKPT (a file, a glob matching
# one, or a work dir).
_base_ = [
    '../_base_/primaps_em/cityscapes27_322.py',
    '../_base_/schedules/primaps_em_on_top.py',
    '../_base_/backbones/dinov2-vit-b14.py',
]
proposal_root = 'data/primaps/dinov2_vitb14_cityscapes'
sota_checkpoint = 'work_dirs/cause-tr-probe_dinov2-vit-b14_5e_cityscapes27-322/epoch_5.pth'
num_queries = (_base_.crop_size // _base_.patch) ** 2
model = dict(backbone=dict(
    type='FrozenCodeBackbone', backbone=_base_.backbone, checkpoint=sota_checkpoint,
    head=dict(_base_.code_heads.cause_tr, num_classes=_base_.num_classes, num_queries=num_queries)))
train_dataloader = dict(dataset=dict(pipeline=[
    _base_.geometry, dict(type='LoadPrimapsMasks', proposal_root=proposal_root),
    _base_.augment_and_pack]))
primaps_precompute = dict(out_dir=proposal_root,
                          model=dict(_base_.model, backbone=_base_.backbone))
