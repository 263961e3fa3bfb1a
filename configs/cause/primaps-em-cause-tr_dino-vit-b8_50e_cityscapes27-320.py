# PriMaPs-EM on top of CAUSE-TR, as primaps_em/primaps-em-stego_dino-vit-b8_50e_cityscapes27-320.py
# on top of STEGO: the prototypes are fitted to the EMA code of the trained CAUSE-TR head (step 3
# of configs/cause/cause-tr-probe_dino-vit-b8_5e_cityscapes27-320.py, clusterbook included in the
# checkpoint), starting from its cluster probe (no PCA, no warm-up). The PriMaPs masks are the plain
# DINO ViT-B/8 ones of primaps_em/primaps-em_dino-vit-b8_52e_cityscapes27-320.py (pre-compute them
# with that config). Another checkpoint:
#   --cfg-options sota_checkpoint=CKPT
# (a file, a glob matching one, or a work dir: its last checkpoint).
_base_ = ['../primaps_em/primaps-em_dino-vit-b8_52e_cityscapes27-320.py']
num_queries = 1600  # CAUSE-TR's patches: (crop_size / 8)²
sota_checkpoint = 'work_dirs/cause-tr-probe_dino-vit-b8_5e_cityscapes27-320/epoch_5.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='FrozenCodeBackbone',
        backbone={{_base_.model.backbone}},
        head=dict(type='CauseTRHead', in_channels=768, channels=90, num_classes=27,
                  num_queries=num_queries, front_door=False),
        checkpoint=sota_checkpoint),
    decode_head=dict(in_channels=90))
train_cfg = dict(max_epochs=50)
warmup_epochs = 0  # no warm-up: every EM epoch is a best-checkpoint candidate
custom_hooks = [
    dict(type='CheckpointPrototypeInitHook', checkpoint=sota_checkpoint),
    dict(type='PrimapsEMHook', warmup_epochs=warmup_epochs, interval=10, max_decay=0.98),
]
default_hooks = dict(checkpoint=dict(warmup=warmup_epochs))
# The PriMaPs masks are the plain backbone's: the pre-compute builds the base config's model.
primaps_precompute = dict(model={{_base_.model}})
