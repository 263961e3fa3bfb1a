# CAUSE-TR step 2, front-door adjustment (reference train_front_door_tr.py) on frozen DINOv2
# ViT-B/14, PASCAL VOC 2012: super crops at 322, evaluated at 322. Needs the clusterbook of
# cause-mediator_dinov2-vit-b14_1e_voc-322.py. Step 3:
# cause-tr-probe_dinov2-vit-b14_5e_voc-322.py.
_base_ = [
    '../_base_/models/cause_tr.py',
    '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_voc_322.py',
    '../_base_/backbones/dinov2-vit-b14.py',
]
train_crop_size = 322  # the training crops (cause_loader_322)
num_queries = (train_crop_size // _base_.patch) ** 2  # the patch grid
train_dataloader, optim_wrapper = _base_.cause_loader_322, _base_.cause_optim.tr
clusterbook_file = ('work_dirs/cause-mediator_dinov2-vit-b14_1e_voc-322/'
                    'clusterbook_2048.npy')
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head,
    num_queries=num_queries))
