# PriMaPs-EM on top of STEGO (docs/methods/primaps_em.md): the prototypes are fitted to the code of
# a trained STEGO model (configs/stego/stego_dino-vit-b8_5k_cityscapes27-320.py) instead of the DINO
# ViT-B/8 features, starting from its cluster centres (no PCA, no warm-up); the PriMaPs masks are
# the plain DINO ViT-B/8 ones of primaps-em_dino-vit-b8_52e_cityscapes27-320.py (pre-compute them
# with that config). Set the STEGO checkpoint in `sota_checkpoint` below, or with
#   --cfg-options sota_checkpoint=CKPT
# (a file, a glob matching one, or a work dir: its last checkpoint).
_base_ = ['./primaps-em_dino-vit-b8_52e_cityscapes27-320.py']
sota_checkpoint = 'work_dirs/stego_dino-vit-b8_5k_cityscapes27-320/best_cluster_mIoU_iter_*.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='FrozenCodeBackbone',
        backbone={{_base_.model.backbone}},
        # STEGO's projection (HP's head has the same linear + nonlinear branches).
        head=dict(type='StegoHead', in_channels=768, channels=70, num_classes=27),
        checkpoint=sota_checkpoint),
    decode_head=dict(in_channels=70))
train_cfg = dict(max_epochs=50)
warmup_epochs = 0  # no warm-up: every EM epoch is a best-checkpoint candidate
custom_hooks = [
    dict(type='CheckpointPrototypeInitHook', checkpoint=sota_checkpoint),
    dict(type='PrimapsEMHook', warmup_epochs=warmup_epochs, interval=10, max_decay=0.98),
]
default_hooks = dict(checkpoint=dict(warmup=warmup_epochs))
# The PriMaPs masks are the plain backbone's: the pre-compute builds the base config's model.
primaps_precompute = dict(model={{_base_.model}})
