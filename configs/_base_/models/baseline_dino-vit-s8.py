# DINO baseline model: cosine cluster probe (and linear probe) on frozen DINO ViT-S/8
# (docs/methods/baseline.md). A config adds num_classes (the dataset base sets `crop_size`).
_base_ = ['./dino-vit-s8.py']
model = dict(decode_head=dict(type='ClusterProbeHead', in_channels=384))
