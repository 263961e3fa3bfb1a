# STEGO on Cityscapes-27 (docs/methods/stego.md): five 224-px crops with KNN partners (the leaf's
# `knn_file`, made by tools/precompute_knns.py), evaluated at 320 px. "Cityscapes 10/3" of STEGO's
# train_config.yml for every backbone (docs/methods/stego.md#quirks Q12: unverified choice; the
# released ViT-B/8 checkpoint has D = 100, the config 70).
_base_ = ['../models/stego.py', '../datasets/cityscapes27_five_crop.py', '../default_runtime.py',
          '../schedules/stego_5k.py']
model = dict(decode_head=dict(num_classes=_base_.num_classes, loss_corr=dict(
    weight_self=1.0, weight_knn=0.5774535, weight_rand=0.9058763,
    shift_self=0.4582847, shift_knn=0.1754347, shift_rand=0.3136124)))
train_dataloader = dict(batch_size=16, dataset=dict(
    _delete_=True, type='KNNPairDataset', num_neighbors=7, dataset=_base_.train_dataloader.dataset))
