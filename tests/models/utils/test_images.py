"""PixelNormaliser: the one raw image ↔ network input conversion (views, proposals, CRF, tools)."""
import pytest
import torch
from mmseg.registry import MODELS

import mmuss  # noqa: F401
from mmuss.models.utils.images import PixelNormaliser, view_inputs


def preprocessor(**kwargs):
    return MODELS.build(dict(type='SegDataPreProcessor', **kwargs))


def test_normalise_is_what_the_data_preprocessor_does_to_the_input():
    pre = preprocessor(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 8.0], bgr_to_rgb=True)
    raw = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    expected = pre(dict(inputs=[raw]), False)['inputs']
    torch.testing.assert_close(PixelNormaliser.of(pre).normalise(raw[None]), expected)


def test_a_preprocessor_without_statistics_only_converts_channels():
    pre = preprocessor(bgr_to_rgb=True)
    raw = torch.arange(12, dtype=torch.uint8).reshape(1, 3, 2, 2)
    pixels = PixelNormaliser.of(pre)
    assert torch.equal(pixels.normalise(raw), raw.flip(1).float())
    assert torch.equal(pixels.unnormalise(raw.float()), raw)


def test_unnormalise_clamps_to_uint8():
    pixels = PixelNormaliser([10.0, 0, 0], [2.0, 1, 1])
    x = torch.tensor([[[[1.0]], [[300.0]], [[-4.0]]]])
    assert pixels.unnormalise(x).flatten().tolist() == [12, 255, 0]


def test_unnormalise_rounds_away_float_error():
    """x·std + mean = 12.9999 comes from pixel 13; truncation would give 12."""
    pixels = PixelNormaliser([10.0, 0, 0], [3.0, 1, 1])
    x = torch.tensor([[[[2.9999 / 3]], [[254.6]], [[0.4]]]])
    assert pixels.unnormalise(x).flatten().tolist() == [13, 255, 0]


def test_round_trip_recovers_the_raw_pixels_in_network_order():
    pixels = PixelNormaliser(bgr_to_rgb=True)
    raw = torch.randint(0, 256, (2, 3, 5, 7), dtype=torch.uint8)
    assert torch.equal(pixels.unnormalise(pixels.normalise(raw)), raw.flip(1))
    assert torch.equal(pixels.rgb(raw), raw.flip(1))


def test_views_are_normalised_like_the_input():
    from mmseg.structures import SegDataSample
    pre = preprocessor(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 8.0], bgr_to_rgb=True)
    view = torch.randint(0, 256, (3, 4, 4), dtype=torch.uint8)
    sample = SegDataSample()
    sample.set_field(view, 'img_aug')
    got = view_inputs([sample], 'img_aug', torch.zeros(1, 3, 4, 4), pre)
    torch.testing.assert_close(got, pre(dict(inputs=[view]), False)['inputs'])


def test_mean_without_std_is_refused():
    with pytest.raises(ValueError, match='both'):
        PixelNormaliser([1.0, 2.0, 3.0], None)
