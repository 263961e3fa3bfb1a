# STEGO (Hamilton et al., ICLR 2022) on frozen DINOv2 ViT-B/14, Potsdam-3 (docs/methods/stego.md):
# the uncropped tiles (224 px) with KNN partners of this backbone, evaluated at 322 px with flip
# averaging and the dense CRF. Make the KNN table once (after the crops, see the dataset base):
#   python tools/precompute_knns.py configs/stego/stego_dinov2-vit-b14_5k_potsdam3-322.py
_base_ = [
    '../_base_/stego/potsdam3_322.py',
    '../_base_/backbones/dinov2-vit-b14.py',
]
knn_file = 'data/potsdam3/nns/nns_dinov2-vit-b14_potsdam3_train.npz'
model = dict(backbone=_base_.backbone)
train_dataloader = dict(dataset=dict(knn_file=knn_file))
