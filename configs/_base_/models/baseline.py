# DINO baseline model: cosine cluster probe (and linear probe) on a frozen backbone
# (docs/methods/baseline.md). A leaf adds the backbone and num_classes.
_base_ = ['./frozen_backbone.py']
model = dict(decode_head=dict(type='ClusterProbeHead'))
