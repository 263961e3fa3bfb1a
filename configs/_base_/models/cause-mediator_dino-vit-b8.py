# CAUSE step 1, the mediator, on frozen DINO ViT-B/8 (docs/methods/cause.md): the 2048-concept
# clusterbook fitted by the modularity loss on grid-sampled patch features (4×4 cells).
# A config adds num_classes.
_base_ = ['./dino-vit-b8.py']
model = dict(
    decode_head=dict(
        type='CauseMediatorHead', in_channels=768, num_codebook=2048, grid_stride=4,
        loss_mod=dict(type='CauseModularityLoss', temperature=0.1)))
