# STEGO on Potsdam-3 (docs/methods/stego.md): the uncropped tiles at 224 px with KNN partners (the
# leaf's `knn_file`, made by tools/precompute_knns.py), evaluated at 320 px. "Potsdam vit small
# 1/31/22" of STEGO's train_config.yml for every backbone (docs/methods/stego.md#hyper-parameters).
_base_ = ['../models/stego.py', '../datasets/potsdam3_train224.py', '../default_runtime.py',
          '../schedules/stego_5k.py']
model = dict(decode_head=dict(num_classes=_base_.num_classes, loss_corr=dict(
    weight_self=0.67, weight_knn=0.25, weight_rand=0.63,
    shift_self=0.08, shift_knn=0.02, shift_rand=0.46)))
train_dataloader = dict(batch_size=16, dataset=dict(
    _delete_=True, type='KNNPairDataset', num_neighbors=7, dataset=_base_.train_dataloader.dataset))
