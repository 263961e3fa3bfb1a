"""Tiny configs for the cache tests: a random-init 1-block DINO ViT (patch 4) on 32×32 textures."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / 'configs' / '_base_'


def write_primaps_config(path: Path, data_root: Path, out_dir: Path) -> Path:
    """A PriMaPs pre-compute config (model, proposer, dataloader) over ``img_dir/train``."""
    path.write_text(f'''
_base_ = [{str(BASE / 'default_runtime.py')!r}]
data_root = {str(data_root)!r}
proposal_root = {str(out_dir)!r}
model = dict(
    type='FrozenBackboneSegmentor',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255),
    backbone=dict(type='DinoVisionTransformer', patch_size=4, img_size=32,
                  arch=dict(embed_dims=32, num_layers=1, num_heads=2), init_cfg=None),
    decode_head=dict(type='PrimapsEMHead', in_channels=32, num_classes=6),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
primaps_precompute = dict(
    out_dir=proposal_root,
    proposer=dict(type='PrimapsProposer'),
    dataloader=dict(batch_size=4, num_workers=0, dataset=dict(
        type='BaseSegDataset', data_root=data_root, img_suffix='.png', seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')])))
''')
    return path


def write_knn_config(path: Path, data_root: Path) -> Path:
    """A frozen-backbone config whose train split is ``img_dir/train``."""
    path.write_text(f'''
_base_ = [{str(BASE / 'default_runtime.py')!r}]
data_root = {str(data_root)!r}
model = dict(type='FrozenBackboneSegmentor',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='DinoVisionTransformer', patch_size=4, img_size=32,
                  arch=dict(embed_dims=32, num_layers=2, num_heads=2), init_cfg=None),
    decode_head=dict(type='ClusterProbeHead', in_channels=32, num_classes=6))
train_dataloader = dict(dataset=dict(type='BaseSegDataset', data_root=data_root,
    img_suffix='.png', seg_map_suffix='.png', metainfo=dict(classes=tuple('abcdef')),
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    pipeline=[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]))
''')
    return path
