"""HP's photometric view on the normalised image: the torchvision operations, hand-checked."""
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

from mmuss.datasets.transforms.normalised_photometric_view import (adjust_brightness,
                                                                   adjust_contrast, adjust_hue,
                                                                   adjust_saturation,
                                                                   gaussian_blur, rgb_to_hsv)


def pixels(*rgb):
    """``3×1×N`` array of the given RGB pixels."""
    return np.asarray(rgb, np.float32).T[:, None, :]


def test_brightness_scales_and_clamps_to_unit_range():
    out = adjust_brightness(pixels((-1, 0.2, 0.9)), 1.2)
    assert np.allclose(out[:, 0, 0], [0.0, 0.24, 1.0])


def test_contrast_blends_with_the_mean_grey_level():
    # grey(1,1,1) = 0.9999, grey(0,0,0) = 0 -> mean 0.49995; f = 0.5
    out = adjust_contrast(pixels((1, 1, 1), (0, 0, 0)), 0.5)
    assert np.allclose(out[0, 0], [0.5 + 0.5 * 0.49995, 0.5 * 0.49995])


def test_saturation_blends_with_the_pixel_grey_level():
    red = pixels((1, 0, 0))  # grey 0.2989
    assert np.allclose(adjust_saturation(red, 0.0)[:, 0, 0], [0.2989] * 3)
    assert np.allclose(adjust_saturation(red, 2.0)[:, 0, 0], [1.0, 0.0, 0.0])  # clamped


def test_hue_rotation_and_the_negative_value_quirk():
    red = pixels((1, 0, 0))
    assert np.allclose(adjust_hue(red, 1 / 3)[:, 0, 0], [0, 1, 0], atol=1e-6)
    assert np.allclose(adjust_hue(red, -1 / 3)[:, 0, 0], [0, 0, 1], atol=1e-6)
    orange = pixels((0.5, 0.25, 0))  # h = 1/12, s = 1, v = 0.5
    assert np.allclose(rgb_to_hsv(orange)[:, 0, 0], [1 / 12, 1, 0.5])
    assert np.allclose(adjust_hue(orange, 0.0)[:, 0, 0], [0.5, 0.25, 0], atol=1e-6)
    # normalised values are negative: maxc = -0.5, s = 1.5 / -0.5 = -3, h = 1/9; back in
    # sector 0 with p = q = t clamped to 0 -> (v, t, p) = (-0.5, 0, 0)
    assert np.allclose(adjust_hue(pixels((-0.5, -1, -2)), 0.0)[:, 0, 0], [-0.5, 0, 0])


def test_blur_kernel_is_the_normalised_gaussian_with_reflected_borders():
    img = np.zeros((1, 1, 7), np.float32)
    img[0, 0, 3] = 1.0
    out = gaussian_blur(img, 5, 1.0)[0, 0]
    pdf = np.exp(-0.5 * np.arange(-2, 3) ** 2)
    assert np.allclose(out[1:6], pdf / pdf.sum(), atol=1e-6)  # 1-row image: rows reflect


def test_view_round_trips_to_raw_pixels_and_clamps_negative_normalised_values():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    off = TRANSFORMS.build(dict(type='NormalisedPhotometricView', brightness=0, contrast=0,
                                saturation=0, hue=0, grayscale_prob=0, blur_prob=0))
    view = off.transform(dict(img=img))['img_aug']
    assert view.dtype == np.float32 and np.allclose(view, img, atol=1e-3)

    np.random.seed(0)
    jitter = TRANSFORMS.build(dict(type='NormalisedPhotometricView', contrast=0, saturation=0,
                                   hue=0, grayscale_prob=0, blur_prob=0))
    view = jitter.transform(dict(img=img))['img_aug']
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    normalised = (view[..., ::-1] / 255.0 - mean) / std  # what the preprocessor feeds the model
    before = (img[..., ::-1] / 255.0 - mean) / std
    assert normalised.min() >= -1e-5 and normalised.max() <= 1 + 1e-5
    assert np.allclose(normalised[before < 0], 0, atol=1e-5)
    ratio = normalised[(before > 0.05) & (before < 0.7)] / before[(before > 0.05) & (before < 0.7)]
    assert np.allclose(ratio, ratio.flat[0], atol=1e-4) and 0.7 <= ratio.flat[0] <= 1.3


def test_hue_range_is_checked():
    with pytest.raises(ValueError, match='hue must be in'):
        TRANSFORMS.build(dict(type='NormalisedPhotometricView', hue=0.6))


def test_photometric_view_and_multi_view_packing():
    img = np.random.default_rng(1).integers(0, 256, (8, 6, 3), dtype=np.uint8)
    view = TRANSFORMS.build(dict(type='NormalisedPhotometricView', key='img_aug', brightness=0,
                                 contrast=0, saturation=0, hue=0, grayscale_prob=1.0,
                                 blur_prob=0.0))
    results = view.transform(dict(img=img.copy(), img_shape=img.shape[:2]))
    assert np.array_equal(results['img'], img)  # the image itself is untouched
    grey = results['img_aug']  # grey in the normalised RGB domain, stored as raw BGR
    normalised = (grey[..., ::-1] / 255.0 - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)
    assert grey.shape == img.shape
    np.testing.assert_allclose(normalised[..., 0], normalised[..., 1], atol=1e-4)
    packed = TRANSFORMS.build(dict(type='PackMultiViewSegInputs')
                              ).transform(dict(results, ori_shape=img.shape[:2]))
    assert tuple(packed['data_samples'].img_aug.shape) == (3, 8, 6)
    assert np.array_equal(packed['data_samples'].img_aug.permute(1, 2, 0).numpy(), grey)
