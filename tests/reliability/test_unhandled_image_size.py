"""tools/infer.py skips an image it cannot handle (smaller than a patch), naming it."""
import cv2
import numpy as np
import torch

from ..image_folder_toys import load_tool, write_photos, write_tiny_config
from mmuss.apis import init_model

infer_tool = load_tool('infer')


def test_too_small_image_is_skipped_and_the_others_are_written(tmp_path, capsys):
    photos = write_photos(tmp_path / 'photos', [(37, 53), (41, 30)])
    cv2.imwrite(str(tmp_path / 'photos' / 'tiny.png'), np.full((3, 2, 3), 128, np.uint8))
    cfg = write_tiny_config(tmp_path, tmp_path / 'photos')
    cfg.write_text(cfg.read_text().replace(
        "dict(type='Resize', scale=(512, 32), keep_ratio=True),", ''))
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': init_model(str(cfg)).state_dict()}, ckpt)
    out = tmp_path / 'out'
    status = infer_tool.main([str(cfg), str(ckpt), str(tmp_path / 'photos'), '--out', str(out),
                              '--batch-size', '3'])
    assert status == 1
    err = capsys.readouterr().err
    assert 'tiny.png' in err and 'smaller than one 4x4 patch' in err
    for photo, size in zip(photos, [(37, 53), (41, 30)], strict=True):
        labels = cv2.imread(str(out / 'labels' / f'{photo.stem}.png'), cv2.IMREAD_UNCHANGED)
        assert labels.shape == size
    assert not (out / 'labels' / 'tiny.png').exists()
