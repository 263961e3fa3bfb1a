# MaskContrast pixel-embedding network (docs/methods/maskcontrast.md#hyper-parameters): a backbone
# + DeepLab-v3 head with a 32-d embedding and a saliency logit; MoCo key encoder (m = 0.999) and a
# queue of mask prototypes. The ResNet-50-D8 of the paper: ../backbones/resnet50-d8.py.
_base_ = ['./frozen_backbone.py']
model = dict(
    _delete_=True, type='MaskContrast', data_preprocessor=_base_.data_preprocessor,
    decode_head=dict(type='MaskContrastHead', channels=256, embed_dims=32, dropout_ratio=0.5,
                     dilations=(1, 12, 24, 36), num_classes=21),
    loss_cfg=dict(type='MaskContrastLoss', temperature=0.5, saliency_weight=1.0),
    queue_size=128, momentum=0.999)
