# CAUSE-MLP step 2, front-door adjustment (reference train_front_door_mlp.py) on frozen DINO
# ViT-B/8, Cityscapes-27: five crops at 224, evaluated at 320. Needs the clusterbook of
# cause-mediator_dino-vit-b8_1e_cityscapes27-320.py. Step 3:
# cause-mlp-probe_dino-vit-b8_1e_cityscapes27-320.py.
_base_ = [
    '../_base_/models/cause_mlp.py',
    '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_cityscapes27.py',
    '../_base_/backbones/dino-vit-b8.py',
]
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader, optim_wrapper = _base_.cause_loader_224, _base_.cause_optim.mlp
clusterbook_file = ('work_dirs/cause-mediator_dino-vit-b8_1e_cityscapes27-320/'
                    'clusterbook_2048.npy')
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head))
