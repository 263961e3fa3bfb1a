# CAUSE step 1, the mediator (Kim et al., Pattern Recognition; reference train_mediator.py) on
# frozen DINO ViT-S/8, COCO-Stuff-27 five crops at 320: fits the 2048-concept clusterbook and
# writes it to its work dir (or to `clusterbook_file`), where the CAUSE-MLP and CAUSE-TR configs
# of this backbone and dataset read it. See configs/cause/README.md for the three steps.
_base_ = [
    '../_base_/models/cause_mediator.py',
    '../_base_/cause/cause_mediator.py',
    '../_base_/cause/cause_train_cocostuff27.py',
    '../_base_/backbones/dino-vit-s8.py',
]
model = dict(backbone=_base_.backbone, decode_head=dict(num_classes=_base_.num_classes))
train_crop_size, train_dataloader = 320, _base_.cause_loader_320  # the training crops
val_dataloader = val_evaluator = test_dataloader = test_evaluator = None
