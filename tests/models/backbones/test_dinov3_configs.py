"""The DINOv3 ViT-B/16 method configs are their DINO recipe with only the backbone swapped."""
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[3] / 'configs'
BACKBONE = {'type': 'DinoV3VisionTransformer', 'arch': 'base', 'patch_size': 16,
            'init_cfg': {'type': 'Pretrained',
                         'checkpoint': 'checkpoints/dinov3-vitb16-pretrain-lvd1689m'}}
BACKBONE_KEYS = {'backbone_checkpoint', 'embed_dims', 'patch', 'plain_backbone'}
# (DINOv3 config, the DINO config it derives from, paths allowed to differ besides the backbone)
PAIRS = [
    ('baseline/baseline_dinov3-vit-b16_2k_cityscapes27-320.py',
     'baseline/baseline_dino-vit-b8_2k_cityscapes27-320.py', set()),
    ('baseline/baseline_dinov3-vit-b16_2k_cocostuff27-320.py',
     'baseline/baseline_dino-vit-b8_2k_cocostuff27-320.py', set()),
    ('primaps_em/primaps-em_dinov3-vit-b16_52e_cityscapes27-320.py',
     'primaps_em/primaps-em_dino-vit-b8_52e_cityscapes27-320.py',
     {'proposal_root', 'primaps_precompute.out_dir',
      'train_dataloader.dataset.pipeline.1.proposal_root'}),
    ('primaps_em/primaps-em_dinov3-vit-b16_52e_cocostuff27-320.py',
     'primaps_em/primaps-em_dino-vit-b8_52e_cocostuff27-320.py',
     {'proposal_root', 'primaps_precompute.out_dir',
      'train_dataloader.dataset.pipeline.1.proposal_root'}),
    ('stego/stego_dinov3-vit-b16_5k_cityscapes27-320.py',
     'stego/stego_dino-vit-b8_5k_cityscapes27-320.py',
     {'knn_file', 'train_dataloader.dataset.knn_file'}),
    ('stego/stego_dinov3-vit-b16_5k_cocostuff27-320.py',
     'stego/stego_dino-vit-b8_5k_cocostuff27-320.py',
     {'knn_file', 'train_dataloader.dataset.knn_file'}),
    ('hp/hp_dinov3-vit-b16_30e_cityscapes27-320.py', 'hp/hp_dino-vit-b8_30e_cityscapes27-320.py',
     set()),
    ('hp/hp_dinov3-vit-b16_3e_cocostuff27-320.py', 'hp/hp_dino-vit-s8_3e_cocostuff27-320.py',
     set()),
]


def differences(a, b, path=''):
    """Dotted paths where two nested dict/list structures differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = set()
        for key in set(a) | set(b):
            sub = f'{path}.{key}' if path else str(key)
            out |= differences(a.get(key), b.get(key), sub) if key in a and key in b else {sub}
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return set().union(*[differences(x, y, f'{path}.{i}') for i, (x, y) in
                             enumerate(zip(a, b))]) if a else set()
    return set() if a == b else {path}


@pytest.mark.parametrize('ours,theirs,allowed', PAIRS, ids=[p[0] for p in PAIRS])
def test_dinov3_config_is_the_dino_recipe_with_another_backbone(ours, theirs, allowed):
    mine, base = Config.fromfile(CONFIGS / ours), Config.fromfile(CONFIGS / theirs)
    backbone = mine.model.backbone.to_dict()
    assert {k: backbone[k] for k in BACKBONE} == BACKBONE
    assert backbone.get('out_attn', False) == ('hp/' in ours)
    diff = differences(mine.to_dict(), base.to_dict())
    # the backbone base's own keys (the backbone, its width, patch and weights) name the swap
    diff = {d for d in diff if not d.startswith(('model.backbone.', 'backbone.', 'plain_backbone.'))
            and d not in BACKBONE_KEYS}
    assert diff == allowed
    for path in allowed:
        value = mine
        for part in path.split('.'):
            value = value[int(part)] if isinstance(value, list) else value[part]
        assert 'dinov3-vit-b16' in value, (path, value)
