# CAUSE-MLP step 3, cluster-probe fine-tuning (reference fine_tuning_mlp.py) on the step-2 head of
# cause-mlp_dinov2-vit-b14_2e_cocostuff27-322.py (DINOv2 ViT-B/14, COCO-Stuff-27; five crops at
# 224, evaluated at 322). The paper's protocol: tools/test.py THIS_CONFIG CKPT --flip --crf
# (test_mlp.py).
_base_ = [
    '../_base_/models/cause_mlp.py',
    '../_base_/cause/cause_probe.py',
    '../_base_/cause/cause_train_cocostuff27_322.py',
    '../_base_/backbones/dinov2-vit-b14.py',
]
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader, optim_wrapper = _base_.cause_loader_224, _base_.cause_optim.mlp_probe
train_cfg = dict(max_epochs=1)
clusterbook_file = ('work_dirs/cause-mediator_dinov2-vit-b14_1e_cocostuff27-322/'
                    'clusterbook_2048.npy')
step2_work_dir = 'work_dirs/cause-mlp_dinov2-vit-b14_2e_cocostuff27-322'
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=_base_.num_classes, clusterbook_file=clusterbook_file, **_base_.step_head))
custom_hooks = [dict(type='CauseHeadInitHook', checkpoint=step2_work_dir)]
