# CAUSE-TR step 3, cluster-probe fine-tuning (reference fine_tuning_tr.py) on the step-2 head of
# cause-tr_dinov3-vit-s16_2e_cityscapes27-320.py (DINOv3 ViT-S/16, Cityscapes-27; five crops at
# 320, evaluated at 320). The paper's protocol: tools/test.py THIS_CONFIG CKPT --flip --crf
# (test_tr.py).
_base_ = [
    '../_base_/models/cause_tr.py',
    '../_base_/cause/cause_probe.py',
    '../_base_/cause/cause_train_cityscapes27.py',
    '../_base_/backbones/dinov3-vit-s16.py',
]
train_crop_size = 320  # the training crops (cause_loader_320)
num_queries = (train_crop_size // _base_.patch) ** 2  # the patch grid
train_dataloader, optim_wrapper = _base_.cause_loader_320, _base_.cause_optim.tr_probe
train_cfg = dict(max_epochs=5)
clusterbook_file = ('work_dirs/cause-mediator_dinov3-vit-s16_1e_cityscapes27-320/'
                    'clusterbook_2048.npy')
step2_work_dir = 'work_dirs/cause-tr_dinov3-vit-s16_2e_cityscapes27-320'
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head,
    num_queries=num_queries))
custom_hooks = [dict(type='CauseHeadInitHook', checkpoint=step2_work_dir)]
