# STEGO (Hamilton et al., ICLR 2022) on frozen DINO ViT-B/8, COCO-Stuff-27 (docs/methods/stego.md).
# Train on five crops (224 px) with KNN partners. Evaluate at 320 px with flip averaging and the
# dense CRF. Make the KNN table once (after the five-crop conversion, see the dataset config):
#   python tools/precompute_knns.py configs/stego/stego_dino-vit-b8_5k_cocostuff27-320.py
# (writes data/coco_stuff164k/nns/nns_dino-vit-b8_cocostuff27_train.npz).
_base_ = [
    '../_base_/models/stego_dino-vit-b8.py', '../_base_/datasets/cocostuff27_five_crop.py',
    '../_base_/default_runtime.py', '../_base_/schedules/stego_5k.py'
]
knn_file = 'data/coco_stuff164k/nns/nns_dino-vit-b8_cocostuff27_train.npz'
# "Cocostuff27 10/3 vit_base" of STEGO's train_config.yml (docs/methods/stego.md#quirks
# Q12: unverified choice).
loss_corr = dict(
    type='StegoCorrelationLoss',
    weight_self=0.1, weight_knn=1.0, weight_rand=0.1538476,
    shift_self=0.12, shift_knn=0.2, shift_rand=1.0,
    feature_samples=11, neg_samples=5, pointwise=True, zero_clamp=True)
model = dict(decode_head=dict(num_classes=27, loss_corr=loss_corr))
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _delete_=True, type='KNNPairDataset', knn_file=knn_file, num_neighbors=7,
        dataset={{_base_.train_dataloader.dataset}}))
