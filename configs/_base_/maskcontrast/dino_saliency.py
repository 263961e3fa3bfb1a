# MaskContrast on a frozen DINO-family ViT with saliency masks made from DINO itself
# (tools/maskcontrast_dino_saliency.py, DINO ViT-S/16 attention by default: one mask set,
# saliency_dino_vit-s16, serves every backbone), so no saliency network is needed at all. Not in
# the paper: the backbone is frozen and shared by the query and key encoders (only the DeepLab head
# has a momentum copy). The ASPP rates follow the patch grid of a 224 crop (`aspp_dilations`, by
# patch size): the ResNet-50-D8's for a 28-wide grid (/8), (1, 2, 4, 6) for 14-16-wide ones.
# Generate the masks first:
#   python tools/maskcontrast_dino_saliency.py data/VOCdevkit/VOC2012 \
#       --split ImageSets/Segmentation/trainaug.txt --out-dir saliency_dino_vit-s16 \
#       --list-out ImageSets/Segmentation/trainaug_dino_saliency.txt
_base_ = ['../models/maskcontrast.py', '../datasets/pascal_voc_saliency.py',
          '../schedules/maskcontrast_40e.py', '../default_runtime.py']
log_processor = dict(by_epoch=True)
saliency_dir = 'saliency_dino_vit-s16'
aspp_dilations = dict(p8=(1, 12, 24, 36), p14=(1, 2, 4, 6), p16=(1, 2, 4, 6))
model = dict(freeze_backbone=True)
train_dataloader = dict(batch_size=64, dataset=dict(
    ann_file='ImageSets/Segmentation/trainaug_dino_saliency.txt',
    pipeline=[dict(step, saliency_dir=saliency_dir) if step.type == 'LoadSaliencyMask' else step
              for step in _base_.pretrain_pipeline]))
