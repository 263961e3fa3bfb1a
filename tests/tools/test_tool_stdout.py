"""The saliency tool: one JSON line on stdout (11.12; the KNN tool: tests/reliability) and the
CLS attention row it reads (15.6)."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from .conftest import REPO, load_tool

saliency = load_tool('maskcontrast_dino_saliency')
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}


def backbone_config(tmp_path, kind='DinoVisionTransformer', registers=0):
    path = tmp_path / f'{kind}.py'
    extra = f', num_register_tokens={registers}' if registers else ''
    path.write_text(f"model = dict(backbone=dict(type={kind!r}, patch_size=4, img_size=16, "
                    f"arch=dict(embed_dims=32, num_layers=2, num_heads=2){extra}, "
                    f"init_cfg=None))\n")
    return path


def run_tool(name, *args, cwd):
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / f'{name}.py'), *map(str, args)],
                          cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_saliency_tool_prints_exactly_one_json_line_and_logs_to_stderr(tmp_path):
    root = tmp_path / 'voc'
    (root / 'JPEGImages').mkdir(parents=True)
    rng = np.random.RandomState(0)
    for i in range(3):
        cv2.imwrite(str(root / 'JPEGImages' / f'im{i}.jpg'),
                    rng.randint(0, 255, (24, 28, 3)).astype(np.uint8))
    (root / 'split.txt').write_text('im0\nim1\nim2\n')
    cfg = backbone_config(tmp_path)
    torch.manual_seed(0)
    ckpt = tmp_path / 'dino.pth'  # loading it logs, as with the official weights
    torch.save(saliency.build_backbone(str(cfg), 'none')[0].state_dict(), ckpt)
    proc = run_tool('maskcontrast_dino_saliency', root, '--split', 'split.txt',
                    '--backbone-config', cfg, '--checkpoint', ckpt, cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    assert json.loads(lines[0])['images'] == 3
    assert 'DINO saliency' in proc.stderr and '3/3' in proc.stderr  # the progress bar


@pytest.mark.parametrize('kind,registers', [('DinoVisionTransformer', 0),
                                            ('DinoV2VisionTransformer', 4)])
def test_cls_attention_is_the_cls_query_row_over_all_tokens(tmp_path, kind, registers):
    """softmax_j(q_CLS·k_j/√d) over CLS, registers and patches, kept at the patches, head mean."""
    torch.manual_seed(0)
    backbone, _ = saliency.build_backbone(str(backbone_config(tmp_path, kind, registers)),
                                          'none')
    normed = []
    backbone.blocks[-1].norm1.register_forward_hook(lambda m, a, out: normed.append(out[0]))
    att = saliency.cls_attention(backbone, torch.randn(1, 3, 32, 48))
    tokens, qkv = normed[0], backbone.blocks[-1].attn.qkv
    dims, heads, head_dims = 32, 2, 16
    q = tokens[0] @ qkv.weight[:dims].T + qkv.bias[:dims]  # the CLS token's query
    k = tokens @ qkv.weight[dims:2 * dims].T + qkv.bias[dims:2 * dims]
    rows = [torch.softmax(k[:, h * head_dims:(h + 1) * head_dims]
                          @ q[h * head_dims:(h + 1) * head_dims] / head_dims**0.5, dim=0)
            for h in range(heads)]
    expected = torch.stack(rows).mean(0)[1 + registers:].reshape(8, 12)
    assert tokens.shape[0] == 1 + registers + 96
    torch.testing.assert_close(att[0], expected, rtol=1e-5, atol=1e-6)
