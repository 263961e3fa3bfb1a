# DINOv3 ViT-B/16, LVD-1689M weights. checkpoint: the Hugging Face hub
# folder facebook/dinov3-vitb16-pretrain-lvd1689m
# (gated: accept the licence, then
#   huggingface-cli download facebook/dinov3-vitb16-pretrain-lvd1689m \
#       --local-dir checkpoints/dinov3-vitb16-pretrain-lvd1689m)
# or the official .pth file; frozen (docs/backbones.md). A leaf composes
# it as `model = dict(backbone=_base_.backbone)`; the model takes the width and patch from it.
embed_dims, patch = 768, 16
backbone_checkpoint = 'checkpoints/dinov3-vitb16-pretrain-lvd1689m'
backbone = dict(type='DinoV3VisionTransformer', arch='base', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
