# STEGO (Hamilton et al., ICLR 2022) on frozen DINO ViT-S/8 (the 300-epoch S/8 teacher,
# docs/methods/stego.md#quirks Q18), Potsdam-3 (docs/methods/stego.md): the uncropped tiles (224
# px) with KNN partners of this backbone, evaluated at 320 px with flip averaging and the dense
# CRF. Make the KNN table once (after the crops, see the dataset base):
#   python tools/precompute_knns.py configs/stego/stego_dino-vit-s8_5k_potsdam3-320.py
_base_ = [
    '../_base_/stego/potsdam3.py',
    '../_base_/backbones/dino-vit-s8-300ep.py',
]
knn_file = 'data/potsdam3/nns/nns_dino-vit-s8_potsdam3_train.npz'
model = dict(backbone=_base_.backbone)
train_dataloader = dict(dataset=dict(knn_file=knn_file))
