# DINO baseline model: cosine cluster probe (and linear probe) on frozen DINOv2 ViT-B/14
# (docs/methods/baseline.md). A config adds num_classes (the dataset base sets `crop_size`).
_base_ = ['./dinov2-vit-b14.py']
model = dict(decode_head=dict(type='ClusterProbeHead', in_channels=768))
