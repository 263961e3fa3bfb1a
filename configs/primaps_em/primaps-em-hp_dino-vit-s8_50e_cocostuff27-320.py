# PriMaPs-EM on top of HP (docs/methods/primaps_em.md): the prototypes are fitted to the code of a
# trained HP model (configs/hp/hp_dino-vit-s8_3e_cocostuff27-320.py) instead of the DINO ViT-S/8
# features, starting from its cluster centres (no PCA, no warm-up); the PriMaPs masks are the plain
# DINO ViT-S/8 ones of primaps-em_dino-vit-s8_52e_cocostuff27-320.py (pre-compute them with that
# config). Set the HP checkpoint in `sota_checkpoint` below, or with
#   --cfg-options sota_checkpoint=CKPT
# (a file, a glob matching one, or a work dir: its last checkpoint).
_base_ = ['./primaps-em_dino-vit-s8_52e_cocostuff27-320.py']
sota_checkpoint = 'work_dirs/hp_dino-vit-s8_3e_cocostuff27-320/best_cluster_mIoU_epoch_*.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='FrozenCodeBackbone',
        # HP's featurizer: the 300-epoch DINO ViT-S/8 teacher (docs/methods/stego.md#quirks Q18).
        backbone=dict(
            type='DinoVisionTransformer',
            arch='small',
            patch_size=8,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
                'dino_deitsmall8_300ep_pretrain.pth')),
        # HP's projection (HP's head has the same linear + nonlinear branches).
        head=dict(type='StegoHead', in_channels=384, channels=512, num_classes=27),
        checkpoint=sota_checkpoint),
    decode_head=dict(in_channels=512))
train_cfg = dict(max_epochs=50)
warmup_epochs = 0  # no warm-up: every EM epoch is a best-checkpoint candidate
custom_hooks = [
    dict(type='CheckpointPrototypeInitHook', checkpoint=sota_checkpoint),
    dict(type='PrimapsEMHook', warmup_epochs=warmup_epochs, interval=10, max_decay=0.98),
]
default_hooks = dict(checkpoint=dict(warmup=warmup_epochs))
# The PriMaPs masks are the plain backbone's: the pre-compute builds the base config's model.
primaps_precompute = dict(model={{_base_.model}})
