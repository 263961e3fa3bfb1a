# MaskContrast, supervised saliency (BASNet masks), PASCAL VOC 2012 (docs/methods/maskcontrast.md).
# Reference: 2 GPUs x 32 = global batch 64, queue 128 (= 2 iterations of prototypes);
# ImageNet-supervised ResNet-50 with conv1/bn1/layer1/layer2 frozen in both encoders.
# Launch: tools/dist_train.sh configs/maskcontrast/maskcontrast-sup-sal_resnet50-d8_40e_voc-512.py 2
# On one GPU set train_dataloader.batch_size=64 (in-batch negatives then come from 64
# images instead of 32; docs/methods/maskcontrast.md).
_base_ = ['../_base_/models/maskcontrast.py', '../_base_/backbones/resnet50-d8.py',
          '../_base_/datasets/pascal_voc_saliency.py', '../_base_/schedules/maskcontrast_40e.py',
          '../_base_/default_runtime.py']
log_processor = dict(by_epoch=True)
# torchvision's ImageNet ResNet-50 (the v1 weights of torchvision 0.5, which the reference used)
imagenet_checkpoint = 'https://download.pytorch.org/models/resnet50-19c8e357.pth'
model = dict(
    data_preprocessor=dict(size_divisor=_base_.patch),
    decode_head=dict(in_channels=_base_.embed_dims),
    backbone=dict(_base_.backbone, frozen_stages=2,
                  init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint)),
    queue_size=128)
train_dataloader = dict(batch_size=32)
