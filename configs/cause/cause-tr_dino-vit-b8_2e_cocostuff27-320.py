# CAUSE-TR step 2, front-door adjustment (reference train_front_door_tr.py) on frozen DINO
# ViT-B/8, COCO-Stuff-27: five crops at 320, evaluated at 320. Needs the clusterbook of
# cause-mediator_dino-vit-b8_1e_cocostuff27-320.py. Step 3:
# cause-tr-probe_dino-vit-b8_5e_cocostuff27-320.py.
_base_ = [
    '../_base_/models/cause_tr.py',
    '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_cocostuff27.py',
    '../_base_/backbones/dino-vit-b8.py',
]
train_crop_size = 320  # the training crops (cause_loader_320)
num_queries = (train_crop_size // _base_.patch) ** 2  # the patch grid
train_dataloader, optim_wrapper = _base_.cause_loader_320, _base_.cause_optim.tr
clusterbook_file = ('work_dirs/cause-mediator_dino-vit-b8_1e_cocostuff27-320/'
                    'clusterbook_2048.npy')
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head,
    num_queries=num_queries))
