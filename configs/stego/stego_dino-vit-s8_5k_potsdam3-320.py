# STEGO (Hamilton et al., ICLR 2022) on frozen DINO ViT-S/8, Potsdam-3 (docs/methods/stego.md).
# Train on the uncropped tiles (224 px) with KNN partners. Evaluate at 320 px with flip averaging
# and the dense CRF. Make the KNN table once:
#   python tools/precompute_knns.py configs/stego/stego_dino-vit-s8_5k_potsdam3-320.py
# (writes data/potsdam3/nns/nns_dino-vit-s8_potsdam3_train.npz). The B/8 recipe of
# stego_dino-vit-b8_5k_potsdam3-320.py on the ViT-S/8 backbone.
_base_ = ['./stego_dino-vit-b8_5k_potsdam3-320.py']
knn_file = 'data/potsdam3/nns/nns_dino-vit-s8_potsdam3_train.npz'
model = dict(
    # STEGO/HP load the 300-epoch DINO ViT-S/8 teacher (docs/methods/stego.md#quirks Q18).
    backbone=dict(
        arch='small',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
            'dino_deitsmall8_300ep_pretrain.pth')),
    decode_head=dict(in_channels=384))
train_dataloader = dict(dataset=dict(knn_file=knn_file))
