# PriMaPs-EM on top of a trained STEGO / HP / CAUSE-TR model (COCO-Stuff-27 at 322 for /14;
# docs/methods/primaps_em.md): the prototypes are fitted to that model's code (`code_heads` of
# ./common.py, a FrozenCodeBackbone in the leaf) from its cluster centres: no PCA, no warm-up, 50
# EM epochs. The PriMaPs masks stay the plain backbone's (the leaf's proposal_root and
# primaps_precompute.model are the plain config's).
_base_ = ['./cocostuff27_322.py']
train_cfg = dict(max_epochs=50)
warmup_epochs = 0  # no warm-up: every EM epoch is a best-checkpoint candidate
default_hooks = dict(checkpoint=dict(warmup=warmup_epochs))
