"""PriMaPs-EM's student view: jitter and grayscale on the normalised image, hand-computed."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import TRANSFORMS

import mmuss  # noqa: F401

COMMON = Path(__file__).resolve().parents[3] / 'configs' / '_base_' / 'primaps_em' / 'common.py'
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
# a constant 3×4 image (a blur leaves it unchanged): R 200, G 100, B 50, stored BGR
IMAGE = np.broadcast_to(np.array([50, 100, 200], np.uint8), (3, 4, 3)).copy()


def student_view(monkeypatch, rand: float, **overrides) -> np.ndarray:
    """The config's view with the random draws pinned: factors at 3/4 of their range."""
    cfg = Config.fromfile(str(COMMON)).student_view
    view = TRANSFORMS.build(dict(cfg, **overrides))
    monkeypatch.setattr(np.random, 'rand', lambda: rand)
    monkeypatch.setattr(np.random, 'permutation', lambda n: np.arange(n))
    monkeypatch.setattr(np.random, 'uniform', lambda lo, hi: lo + 0.75 * (hi - lo))
    out = view.transform(dict(img=IMAGE.copy()))['img_student']
    assert out.shape == IMAGE.shape and out.dtype == np.float32
    return (out[..., ::-1] / 255.0 - MEAN) / STD  # what the data preprocessor feeds the model


def test_colour_jitter_acts_on_the_normalised_image_and_clamps(monkeypatch):
    # rand 0 < 0.5 takes the jitter branch, 0 < 0.3 fires it; factors 1.05, hue +0.05.
    # normalised pixel: R (200/255 − .485)/.229 = 1.307, G −0.285, B −0.933
    # brightness 1.05: clamp(1.05·x, 0, 1) = (1, 0, 0)
    # contrast 1.05 around mean grey 0.2989: (1.05 − 0.05·0.2989, −0.0149, −0.0149) → (1, 0, 0)
    # saturation 1.05 around the pixel grey 0.2989: the same → (1, 0, 0)
    # hue +0.05 of pure red: h = 0.05, s = v = 1, sector 0, f = 0.3 → (v, t, p) = (1, 0.3, 0)
    out = student_view(monkeypatch, rand=0.0)
    np.testing.assert_allclose(out, np.broadcast_to([1.0, 0.3, 0.0], out.shape), atol=1e-4)


def test_grayscale_mixes_normalised_channels_without_clamping(monkeypatch):
    # jitter_or_grayscale = 0 always takes the grayscale branch; it fires (0 < 0.1)
    out = student_view(monkeypatch, rand=0.0, jitter_or_grayscale=0.0)
    norm = (np.array([200, 100, 50]) / 255.0 - MEAN) / STD
    grey = 0.2989 * norm[0] + 0.587 * norm[1] + 0.114 * norm[2]  # = 0.117
    np.testing.assert_allclose(out, np.full(out.shape, grey), atol=1e-4)


def test_neither_fires_leaves_the_blurred_image(monkeypatch):
    out = student_view(monkeypatch, rand=0.4)  # jitter branch (0.4 < 0.5), 0.4 ≥ 0.3: no jitter
    norm = (np.array([200, 100, 50]) / 255.0 - MEAN) / STD
    np.testing.assert_allclose(out, np.broadcast_to(norm, out.shape), atol=1e-4)


def test_order_must_name_each_step_once():
    with pytest.raises(ValueError, match='order must list'):
        TRANSFORMS.build(dict(type='NormalisedPhotometricView', order=('blur', 'jitter')))
