"""tools/maskcontrast_dino_saliency.py on a random tiny DINO backbone."""
import cv2
import numpy as np
import torch

from .conftest import load_tool

tool = load_tool('maskcontrast_dino_saliency')


def test_top_mass_keeps_the_largest_entries_holding_the_mass():
    att = torch.tensor([[0.1, 0.5], [0.1, 0.3]])
    assert torch.equal(tool.top_mass_mask(att, 0.6), torch.tensor([[False, True], [False, True]]))
    assert tool.top_mass_mask(att, 1.0).all()
    assert tool.top_mass_mask(att, 0.4).sum() == 1


def write_dataset(root, sizes):
    (root / 'JPEGImages').mkdir(parents=True)
    rng = np.random.RandomState(0)
    for i, (h, w) in enumerate(sizes):
        cv2.imwrite(str(root / 'JPEGImages' / f'im{i}.jpg'),
                    rng.randint(0, 255, (h, w, 3)).astype(np.uint8))
    (root / 'split.txt').write_text(''.join(f'im{i}\n' for i in range(len(sizes))))


def tiny_backbone_config(tmp_path):
    path = tmp_path / 'tiny_dino.py'
    path.write_text("model = dict(backbone=dict(type='DinoVisionTransformer', "
                    "arch=dict(embed_dims=32, num_layers=2, num_heads=2), patch_size=16, "
                    "init_cfg=None))\n")
    return str(path)


def test_cls_attention_is_a_distribution_over_patches(tmp_path):
    torch.manual_seed(0)
    backbone, _ = tool.build_backbone(tiny_backbone_config(tmp_path), 'none')
    att = tool.cls_attention(backbone, torch.randn(2, 3, 32, 48))
    assert att.shape == (2, 2, 3)
    assert (att > 0).all() and (att.sum(dim=(1, 2)) < 1).all()


def test_tool_writes_0_255_masks_drops_tiny_ones_and_scores_against_reference(tmp_path):
    torch.manual_seed(0)
    root = tmp_path / 'voc'
    write_dataset(root, [(40, 56), (50, 33)])
    cfg = tiny_backbone_config(tmp_path)
    out = tool.main([str(root), '--split', 'split.txt', '--out-dir', 'sal', '--list-out',
                     'kept.txt', '--backbone-config', cfg, '--checkpoint', 'none'])
    assert out == dict(images=2, written=2, dropped=0)
    mask = cv2.imread(str(root / 'sal' / 'im1.png'), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (50, 33) and set(np.unique(mask)) <= {0, 255} and mask.max() == 255
    assert (root / 'kept.txt').read_text() == 'im0\nim1\n'

    torch.manual_seed(0)  # the same random backbone again
    again = tool.main([str(root), '--split', 'split.txt', '--out-dir', 'sal2',
                       '--backbone-config', cfg, '--checkpoint', 'none', '--compare-dir', 'sal'])
    assert again['mean_iou_vs_reference'] == 1.0 and again['compared'] == 2

    # one 16x16 patch of a 192x192 image is 0.7 % < 1 %: erased, so the image is dropped
    write_dataset(tmp_path / 'big', [(192, 192)])
    dropped = tool.main([str(tmp_path / 'big'), '--split', 'split.txt', '--mass', '0.001',
                         '--backbone-config', cfg, '--checkpoint', 'none'])
    assert dropped == dict(images=1, written=0, dropped=1)


def test_dinov3_backbone_serves(tmp_path):
    """DINOv3 rotates q/k (RoPE): the backbone's own CLS attention covers it."""
    torch.manual_seed(0)
    root = tmp_path / 'voc'
    write_dataset(root, [(40, 56)])
    path = tmp_path / 'tiny_dinov3.py'
    path.write_text("model = dict(backbone=dict(type='DinoV3VisionTransformer', "
                    "arch=dict(embed_dims=32, num_layers=1, num_heads=2), patch_size=16, "
                    "init_cfg=None))\n")
    out = tool.main([str(root), '--split', 'split.txt', '--out-dir', 'sal',
                     '--backbone-config', str(path), '--checkpoint', 'none'])
    assert out == dict(images=1, written=1, dropped=0)
