# CAUSE-MLP step 2, front-door adjustment (reference train_front_door_mlp.py) on frozen DINOv2
# ViT-B/14, PASCAL VOC 2012: super crops at 224, evaluated at 322. Needs the clusterbook of
# cause-mediator_dinov2-vit-b14_1e_voc-322.py. Step 3:
# cause-mlp-probe_dinov2-vit-b14_1e_voc-322.py.
_base_ = [
    '../_base_/models/cause_mlp.py',
    '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_voc_322.py',
    '../_base_/backbones/dinov2-vit-b14.py',
]
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader, optim_wrapper = _base_.cause_loader_224, _base_.cause_optim.mlp
clusterbook_file = ('work_dirs/cause-mediator_dinov2-vit-b14_1e_voc-322/'
                    'clusterbook_2048.npy')
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head))
