# STEGO (Hamilton et al., ICLR 2022) on frozen DINO ViT-S/8, COCO-Stuff-27 (docs/methods/stego.md).
# Train on five crops (224 px) with KNN partners. Evaluate at 320 px with flip averaging and the
# dense CRF. Make the KNN table once (after the five-crop conversion, see the dataset config):
#   python tools/precompute_knns.py configs/stego/stego_dino-vit-s8_5k_cocostuff27-320.py
# (writes data/coco_stuff164k/nns/nns_dino-vit-s8_cocostuff27_train.npz).
_base_ = [
    '../_base_/models/stego_dino-vit-s8.py', '../_base_/datasets/cocostuff27_five_crop.py',
    '../_base_/default_runtime.py', '../_base_/schedules/stego_5k.py'
]
knn_file = 'data/coco_stuff164k/nns/nns_dino-vit-s8_cocostuff27_train.npz'
# "Cocostuff27 vit small 1/31/22" of STEGO's train_config.yml
# (docs/methods/stego.md#hyper-parameters; HP copies it).
loss_corr = dict(
    type='StegoCorrelationLoss',
    weight_self=0.67, weight_knn=0.25, weight_rand=0.63,
    shift_self=0.08, shift_knn=0.02, shift_rand=0.66,
    feature_samples=11, neg_samples=5, pointwise=True, zero_clamp=True)
model = dict(decode_head=dict(num_classes=27, loss_corr=loss_corr))
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _delete_=True, type='KNNPairDataset', knn_file=knn_file, num_neighbors=7,
        dataset={{_base_.train_dataloader.dataset}}))
