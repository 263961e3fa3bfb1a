# CAUSE-MLP step 3, cluster-probe fine-tuning (reference fine_tuning_mlp.py) on the step-2 head of
# cause-mlp_dinov3-vit-b16_2e_cityscapes27-320.py (DINOv3 ViT-B/16, Cityscapes-27; five crops at
# 224, evaluated at 320). The paper's protocol: tools/test.py THIS_CONFIG CKPT --flip --crf
# (test_mlp.py).
_base_ = [
    '../_base_/models/cause_mlp.py',
    '../_base_/cause/cause_probe.py',
    '../_base_/cause/cause_train_cityscapes27.py',
    '../_base_/backbones/dinov3-vit-b16.py',
]
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader, optim_wrapper = _base_.cause_loader_224, _base_.cause_optim.mlp_probe
train_cfg = dict(max_epochs=1)
clusterbook_file = ('work_dirs/cause-mediator_dinov3-vit-b16_1e_cityscapes27-320/'
                    'clusterbook_2048.npy')
step2_work_dir = 'work_dirs/cause-mlp_dinov3-vit-b16_2e_cityscapes27-320'
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head))
custom_hooks = [dict(type='CauseHeadInitHook', checkpoint=step2_work_dir)]
