# CAUSE step 1, the mediator (docs/methods/cause.md): the 2048-concept clusterbook fitted by the
# modularity loss on grid-sampled patch features (4×4 cells).
_base_ = ['./frozen_backbone.py']
model = dict(decode_head=dict(type='CauseMediatorHead', num_codebook=2048, grid_stride=4,
                              loss_mod=dict(type='CauseModularityLoss', temperature=0.1)))
