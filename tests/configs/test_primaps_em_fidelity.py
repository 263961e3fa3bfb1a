"""Resolved PriMaPs-EM configs carry the reference's PCA sample, student view and best rule."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

FOLDER = Path(__file__).resolve().parents[2] / 'configs' / 'primaps_em'
CONFIGS = sorted(FOLDER.glob('*.py'))


def hook(cfg: Config, kind: str) -> dict:
    (found, ) = [h for h in cfg.custom_hooks if h['type'] == kind]
    return found


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_best_checkpoint_excludes_the_warm_up(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(path))
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.type == 'BestAfterWarmupCheckpointHook' and ckpt.save_best == 'cluster/mIoU'
    assert ckpt.by_epoch and ckpt.warmup == hook(cfg, 'PrimapsEMHook')['warmup_epochs']
    sota = path.stem.startswith(('primaps-em-stego_', 'primaps-em-hp_'))
    assert ckpt.warmup == (0 if sota else 2)


@pytest.mark.parametrize('path', [p for p in CONFIGS if not p.stem.startswith(
                                  ('primaps-em-stego_', 'primaps-em-hp_'))], ids=lambda p: p.stem)
def test_pca_sample_and_student_view_are_the_references(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(path))
    pca = hook(cfg, 'PrototypeInitHook')
    # the reference reads batch indices 0..92 (`idx > 92: break`) of its drop_last loader
    assert (pca['method'], pca['num_batches']) == ('pca', 93)
    assert cfg.train_dataloader.drop_last and cfg.train_dataloader.batch_size == 32
    (view, ) = [s for s in cfg.augment_and_pack.transforms if s['type'].endswith('View')]
    assert view.type == 'NormalisedPhotometricView' and view.key == 'img_student'
    assert view.order == ('blur', 'jitter', 'grayscale')
    assert (view.blur_prob, view.blur_kernel, view.blur_sigma) == (1.0, 21, (0.1, 2.0))
    assert (view.jitter_or_grayscale, view.jitter_prob, view.grayscale_prob) == (0.5, 0.3, 0.1)
    assert (view.brightness, view.contrast, view.saturation, view.hue) == (0.1, 0.1, 0.1, 0.1)
