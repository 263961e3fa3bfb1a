"""``out_cls_attn``: the last block's CLS attention map, for every DINO family (RoPE included)."""
import pytest
import torch
from mmseg.registry import MODELS

import mmuss  # noqa: F401


@pytest.mark.parametrize('kind,registers', [('DinoVisionTransformer', 0),
                                            ('DinoV2VisionTransformer', 4),
                                            ('DinoV3VisionTransformer', 4)])
def test_cls_attn_is_the_cls_row_of_the_last_attention(kind, registers):
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type=kind, patch_size=4, img_size=16,
                                 num_register_tokens=registers, out_cls_attn=True,
                                 arch=dict(embed_dims=32, num_layers=2, num_heads=2)))
    logits = []
    backbone.blocks[-1].attn.register_forward_hook(lambda m, a, out: logits.append(out[1].logits))
    x = torch.randn(2, 3, 16, 24)
    out = backbone(x)
    assert out.cls_attn.shape == (2, 2, 4, 6)
    full = logits[0][:, :, 0].softmax(dim=-1)  # CLS query over CLS, registers, patches
    torch.testing.assert_close(out.cls_attn.flatten(2), full[:, :, 1 + registers:])
    assert (out.cls_attn.sum(dim=(2, 3)) < 1).all()
    # the maps themselves do not depend on the option (SDPA vs explicit last block)
    plain = MODELS.build(dict(type=kind, patch_size=4, img_size=16, num_register_tokens=registers,
                              arch=dict(embed_dims=32, num_layers=2, num_heads=2)))
    plain.load_state_dict(backbone.state_dict())
    torch.testing.assert_close(plain(x).last, out.last, rtol=1e-4, atol=1e-5)
    assert plain(x).cls_attn is None
