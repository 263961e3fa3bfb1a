# DINO baseline model: cosine cluster probe (and linear probe) on frozen DINO ViT-B/8
# (docs/methods/baseline.md). A config adds num_classes (the dataset base sets `crop_size`).
_base_ = ['./dino-vit-b8.py']
model = dict(decode_head=dict(type='ClusterProbeHead', in_channels=768))
