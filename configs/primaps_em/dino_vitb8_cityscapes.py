# Headline entry point: PriMaPs-EM on frozen DINO ViT-B/8, Cityscapes-27, i.e.
# primaps-em_dino-vit-b8_52e_cityscapes27-320.py unchanged under a short, stable path. It shares
# that config's cached proposals and trains into its own work dir (work_dirs/dino_vitb8_cityscapes).
#   python tools/precompute_primaps.py configs/primaps_em/dino_vitb8_cityscapes.py
#   python tools/train.py configs/primaps_em/dino_vitb8_cityscapes.py
_base_ = ['./primaps-em_dino-vit-b8_52e_cityscapes27-320.py']
