"""Own photos of any size with shipped configs: whole image, cropped to the patch, no padding."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from ..image_folder_toys import load_tool, write_photos
from mmuss.apis import inference, init_model
from mmuss.apis.inference import inference_pipelines

REPO = Path(__file__).resolve().parents[2]
IMAGE_FOLDER = REPO / 'configs' / 'baseline' / 'baseline_vit-tiny-p4_100i_image-folder-96.py'
DEMO = REPO / 'configs' / 'baseline' / 'baseline_vit-tiny-p4_100i_synthetic-textures-96.py'
SHIPPED = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
SIZES = [(61, 90), (45, 67), (37, 101)]  # none a multiple of 4 or 8
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
infer_tool = load_tool('infer')


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    return write_photos(tmp_path_factory.mktemp('photos'), SIZES)


def test_real_region_features_equal_the_official_crop(photos):
    torch.manual_seed(0)
    model = init_model(str(IMAGE_FOLDER))
    image = cv2.imread(str(photos[0]))  # 61x90 → the official ViT sees its top-left 60x88
    maps = []
    handle = model.backbone.register_forward_hook(lambda module, args, out: maps.append(out))
    result = inference(model, image)
    handle.remove()
    crop = (image[:60, :88, ::-1] - MEAN) / STD
    official = model.backbone(torch.from_numpy(crop.transpose(2, 0, 1).copy()).float()[None])
    assert maps[0][-1].shape == official[-1].shape == (1, 96, 15, 22)
    torch.testing.assert_close(maps[0][-1], official[-1], rtol=1e-5, atol=1e-5)
    assert tuple(result.pred_sem_seg.shape) == (61, 90)


def checkpoint_of(config: Path, path: Path) -> Path:
    torch.manual_seed(0)
    torch.save({'state_dict': init_model(str(config)).state_dict(), 'meta': {'iter': 100}}, path)
    return path


def test_infer_with_the_demo_checkpoint_and_both_shipped_configs(photos, tmp_path):
    demo_ckpt = checkpoint_of(DEMO, tmp_path / 'demo.pth')  # has linear_probe.* keys
    for config in (DEMO, IMAGE_FOLDER):
        out = tmp_path / config.stem
        assert infer_tool.main([str(config), str(demo_ckpt), str(photos[0].parent),
                                '--out', str(out)]) == 0
        for path, size in zip(photos, SIZES, strict=True):
            labels = cv2.imread(str(out / 'labels' / f'{path.stem}.png'), cv2.IMREAD_UNCHANGED)
            assert labels.shape == size and labels.max() < 6


def test_other_unexpected_keys_are_still_an_error(tmp_path):
    state = init_model(str(IMAGE_FOLDER)).state_dict()
    state['decode_head.extra.weight'] = torch.zeros(1)
    torch.save({'state_dict': state}, tmp_path / 'odd.pth')
    with pytest.raises(KeyError, match=r"odd\.pth.*decode_head\.extra\.weight"):
        init_model(str(IMAGE_FOLDER), str(tmp_path / 'odd.pth'))


def backbone_patch(model_cfg: dict):
    """The ViT patch size in a model config (possibly a wrapped backbone), else None."""
    node = model_cfg.get('backbone')
    while isinstance(node, dict):
        if 'patch_size' in node:
            return node['patch_size']
        node = node.get('backbone')
    return None


@pytest.mark.parametrize('config', SHIPPED, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_every_shipped_config_prepares_the_whole_photo_at_a_patch_multiple(config, photos):
    cfg = Config.fromfile(str(config))
    patch = backbone_patch(cfg.model)
    load, steps = inference_pipelines(cfg, patch)
    out = Compose([load, *steps])(dict(img_path=str(photos[2])))
    height, width = out['inputs'].shape[-2:]
    if patch:
        assert height % patch == 0 and width % patch == 0, (height, width)
    assert tuple(out['data_samples'].ori_shape) == SIZES[2]  # predictions cover the photo
