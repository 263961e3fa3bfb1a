# A frozen backbone under a head (FrozenBackboneSegmentor), ImageNet mean/std on RGB input. The
# method bases here add the head; a leaf adds the backbone base's `backbone`. The built backbone
# gives the head's `in_channels` and the preprocessor's `size_divisor` (its patch).
data_preprocessor = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
model = dict(type='FrozenBackboneSegmentor', data_preprocessor=data_preprocessor,
             test_cfg=dict(mode='whole'))
