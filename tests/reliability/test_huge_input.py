"""tools/infer.py downscales images above --max-size (saying so), labels at full size."""
import cv2
import torch

from ..image_folder_toys import load_tool, write_photos, write_tiny_config
from mmuss.apis import init_model

infer_tool = load_tool('infer')


def test_image_above_max_size_is_downscaled_with_a_message(tmp_path, capsys, monkeypatch):
    photo = write_photos(tmp_path / 'photos', [(150, 201)])[0]
    cfg = write_tiny_config(tmp_path, tmp_path / 'photos')
    cfg.write_text(cfg.read_text().replace(  # a config whose test pipeline does not resize
        "dict(type='Resize', scale=(512, 32), keep_ratio=True),", ''))
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': init_model(str(cfg)).state_dict()}, ckpt)
    shapes, original = [], infer_tool.inference

    def spy(model, images, **kwargs):
        shapes.extend(image.shape for image in images)
        return original(model, images, **kwargs)

    monkeypatch.setattr(infer_tool, 'inference', spy)
    out = tmp_path / 'out'
    assert infer_tool.main([str(cfg), str(ckpt), str(photo), '--out', str(out),
                            '--max-size', '100']) == 0
    assert shapes == [(75, 100, 3)]
    assert '150x201 exceeds --max-size 100' in capsys.readouterr().err
    labels = cv2.imread(str(out / 'labels' / f'{photo.stem}.png'), cv2.IMREAD_UNCHANGED)
    assert labels.shape == (150, 201)
