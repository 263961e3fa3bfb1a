# STEGO on COCO-Stuff-27 with a ViT-S backbone: "Cocostuff27 vit small 1/31/22" of STEGO's
# train_config.yml (docs/methods/stego.md#hyper-parameters; HP copies it), else ./cocostuff27.py.
_base_ = ['./cocostuff27.py']
model = dict(decode_head=dict(loss_corr=dict(weight_self=0.67, weight_knn=0.25, weight_rand=0.63,
                                             shift_self=0.08, shift_knn=0.02, shift_rand=0.66)))
