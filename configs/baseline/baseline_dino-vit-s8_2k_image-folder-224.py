# The DINO-baseline method (cosine cluster probe on frozen DINO ViT-S/8 features, prototypes
# initialised by spherical k-means) on your own folder of images, without any label
# (docs/own_images.md). Set data_root (or --cfg-options data_root=...) and the number of clusters K;
# train with
#   python tools/train.py configs/baseline/baseline_dino-vit-s8_2k_image-folder-224.py
# and segment images with tools/infer.py. There is no validation: the checkpoint predicts cluster
# ids; add a labelled subset as in baseline_vit-tiny-p4_100i_image-folder-96.py to get class ids and
# names.
_base_ = ['../_base_/models/baseline.py', '../_base_/backbones/dino-vit-s8.py',
          '../_base_/datasets/image_folder.py', '../_base_/default_runtime.py',
          '../_base_/schedules/frozen_probe_2k.py']
num_clusters = 27
model = dict(backbone=_base_.backbone, decode_head=dict(
    num_classes=num_clusters, linear_probe=False))
custom_hooks = [dict(type='PrototypeInitHook', method='kmeans', num_batches=8)]
visualizer = dict(type='USSLocalVisualizer')
val_cfg = None
test_cfg = None
