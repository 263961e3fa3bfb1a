"""A float image with NaN/inf is rejected by mmuss.apis.inference, naming the image."""
import numpy as np
import pytest

from ..image_folder_toys import write_tiny_config
from mmuss.apis import inference, init_model


def test_nan_corner_is_rejected_naming_the_image(tmp_path):
    model = init_model(str(write_tiny_config(tmp_path, tmp_path)))
    good = np.full((40, 48, 3), 120.0)
    bad = good.copy()
    bad[:10, :10] = np.nan
    bad[20, 20, 1] = np.inf
    with pytest.raises(ValueError, match=r'image 1 \(a float64 array of shape \(40, 48, 3\)\) '
                       r'holds 301 non-finite'):
        inference(model, [good, bad])
    assert inference(model, good).pred_sem_seg.shape == (40, 48)
