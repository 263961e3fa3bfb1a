# STEGO (Hamilton et al., ICLR 2022) on frozen DINOv3 ViT-L/16, COCO-Stuff-27
# (docs/methods/stego.md): five crops (224 px) with KNN partners of this backbone, evaluated at
# 320 px with flip averaging and the dense CRF. Make the KNN table once (after the crops, see the
# dataset base):
#   python tools/precompute_knns.py configs/stego/stego_dinov3-vit-l16_5k_cocostuff27-320.py
_base_ = [
    '../_base_/stego/cocostuff27.py',
    '../_base_/backbones/dinov3-vit-l16.py',
]
knn_file = 'data/coco_stuff164k/nns/nns_dinov3-vit-l16_cocostuff27_train.npz'
model = dict(backbone=_base_.backbone)
train_dataloader = dict(dataset=dict(knn_file=knn_file))
