# torchvision-style ResNet-50 dilated to output stride 8 (mmseg ResNet, V1b stem), MaskContrast's
# (docs/methods/maskcontrast.md#hyper-parameters); trainable, BN updated. A leaf sets init_cfg.
embed_dims, patch = 2048, 8  # output stride 8; the pipeline fixes the input size
backbone = dict(type='ResNet', depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                contract_dilation=True, deep_stem=False, style='pytorch', out_indices=(3, ),
                norm_cfg=dict(type='BN', requires_grad=True), zero_init_residual=False)
