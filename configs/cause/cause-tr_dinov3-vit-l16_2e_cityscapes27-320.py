# CAUSE-TR step 2, front-door adjustment (reference train_front_door_tr.py) on frozen DINOv3
# ViT-L/16, Cityscapes-27: five crops at 320, evaluated at 320. Needs the clusterbook of
# cause-mediator_dinov3-vit-l16_1e_cityscapes27-320.py. Step 3:
# cause-tr-probe_dinov3-vit-l16_5e_cityscapes27-320.py.
_base_ = [
    '../_base_/models/cause_tr.py',
    '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_cityscapes27.py',
    '../_base_/backbones/dinov3-vit-l16.py',
]
train_crop_size = 320  # the training crops (cause_loader_320)
num_queries = (train_crop_size // _base_.patch) ** 2  # the patch grid
train_dataloader, optim_wrapper = _base_.cause_loader_320, _base_.cause_optim.tr
clusterbook_file = ('work_dirs/cause-mediator_dinov3-vit-l16_1e_cityscapes27-320/'
                    'clusterbook_2048.npy')
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head,
    num_queries=num_queries))
