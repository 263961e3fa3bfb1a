# MaskContrast, unsupervised saliency (DeepUSPS -> BASNet masks), PASCAL VOC 2012
# (docs/methods/maskcontrast.md). Reference: 2 GPUs x 64 = global batch 128, queue 256;
# MoCo v2 (800 ep) ResNet-50 initialisation, nothing frozen. `mocov2_checkpoint` is the
# official MoCo v2 checkpoint (moco_v2_800ep_pretrain.pth.tar); its query encoder is read
# through the `module.encoder_q.` prefix (the MLP projection `fc.*` is not used).
# Without any saliency model: write masks with tools/maskcontrast_dino_saliency.py and set
# saliency_dir to its output folder.
_base_ = ['../_base_/models/maskcontrast.py', '../_base_/backbones/resnet50-d8.py',
          '../_base_/datasets/pascal_voc_saliency.py', '../_base_/schedules/maskcontrast_40e.py',
          '../_base_/default_runtime.py']
log_processor = dict(by_epoch=True)
mocov2_checkpoint = 'checkpoints/moco_v2_800ep_pretrain.pth.tar'
saliency_dir = 'saliency_unsupervised_model'
model = dict(
    data_preprocessor=dict(size_divisor=_base_.patch),
    decode_head=dict(in_channels=_base_.embed_dims),
    backbone=dict(_base_.backbone, frozen_stages=-1,
                  init_cfg=dict(type='Pretrained', checkpoint=mocov2_checkpoint,
                                prefix='module.encoder_q.')),
    queue_size=256)
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=[
    dict(step, saliency_dir=saliency_dir) if step.type == 'LoadSaliencyMask' else step
    for step in _base_.pretrain_pipeline]))
