# STEGO on COCO-Stuff-27 (docs/methods/stego.md): five 224-px crops with KNN partners (the leaf's
# `knn_file`, made by tools/precompute_knns.py), evaluated at 320 px. "Cocostuff27 10/3 vit_base"
# of STEGO's train_config.yml for ViT-B and larger backbones (docs/methods/stego.md#quirks Q12:
# unverified choice); ViT-S ones: cocostuff27_vit-s.py.
_base_ = ['../models/stego.py', '../datasets/cocostuff27_five_crop.py', '../default_runtime.py',
          '../schedules/stego_5k.py']
model = dict(decode_head=dict(num_classes=_base_.num_classes, loss_corr=dict(
    weight_self=0.1, weight_knn=1.0, weight_rand=0.1538476,
    shift_self=0.12, shift_knn=0.2, shift_rand=1.0)))
train_dataloader = dict(batch_size=16, dataset=dict(
    _delete_=True, type='KNNPairDataset', num_neighbors=7, dataset=_base_.train_dataloader.dataset))
