# DINO baseline model: cosine cluster probe (and linear probe) on frozen DINOv2 ViT-S/14
# (docs/methods/baseline.md). A config adds num_classes (the dataset base sets `crop_size`).
_base_ = ['./dinov2-vit-s14.py']
model = dict(decode_head=dict(type='ClusterProbeHead', in_channels=384))
