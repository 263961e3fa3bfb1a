# CAUSE-TR step 3, cluster-probe fine-tuning (reference fine_tuning_tr.py) on the
# step-2 head of cause-tr_dinov2-vit-b14_2e_cityscapes27-322.py
# (DINOv2 ViT-B/14, Cityscapes-27; five crops at 322, evaluated at 322).
# The paper's protocol: tools/test.py THIS_CONFIG CKPT --flip --crf (test_tr.py).
_base_ = [
    '../_base_/models/cause-tr_dinov2-vit-b14.py', '../_base_/datasets/cityscapes27_322.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_probe.py',
    '../_base_/cause/cause_train_cityscapes27.py'
]
clusterbook_file = ('work_dirs/cause-mediator_dinov2-vit-b14_1e_cityscapes27-322/'
                    'clusterbook_2048.npy')
model = dict(
    decode_head=dict(num_classes=27, clusterbook_file=clusterbook_file, front_door=False))
optim_wrapper = dict(clip_grad=dict(max_norm=1.0), optimizer=dict(weight_decay=0.0))
train_crop_size = 322  # the training crops (cause_loader_322)
train_dataloader = {{_base_.cause_loader_322}}
train_cfg = dict(max_epochs=5)
step2_work_dir = 'work_dirs/cause-tr_dinov2-vit-b14_2e_cityscapes27-322'
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='CauseHeadInitHook', checkpoint=step2_work_dir),
]
