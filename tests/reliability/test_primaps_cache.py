"""PriMaPs proposal PNGs: validated on resume, deterministic, self-describing, named."""
import hashlib
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS, TRANSFORMS

from ..image_folder_toys import load_tool
from .cache_toys import write_primaps_config
from mmuss.datasets.synthetic_textures import generate_synthetic_textures

precompute = load_tool('precompute_primaps')


@pytest.fixture(scope='module')
def textures(tmp_path_factory):
    root = tmp_path_factory.mktemp('primaps_cache')
    generate_synthetic_textures(str(root), num_train=6, num_val=1, size=32, seed=2)
    return root


def pngs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob('*.png'))}


def test_truncated_png_is_recomputed_and_runs_are_deterministic(tmp_path, textures):
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    torch.manual_seed(1)  # the tool's own seed, not the caller's state, fixes the weights
    assert precompute.main([str(cfg)]) == 6
    first = pngs(tmp_path / 'p')
    torch.manual_seed(2)
    assert precompute.main([str(cfg), '--out-dir', str(tmp_path / 'q')]) == 6
    assert pngs(tmp_path / 'q') == first  # two clean runs write identical maps
    target = tmp_path / 'p' / '0003.png'
    target.write_bytes(first['0003.png'][:len(first['0003.png']) // 2])
    assert precompute.main([str(cfg)]) == 1  # the truncated map is not "done"
    assert pngs(tmp_path / 'p') == first


def test_truncated_png_read_error_names_the_file_and_the_tool(tmp_path, textures):
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    precompute.main([str(cfg)])
    target = tmp_path / 'p' / '0000.png'
    target.write_bytes(target.read_bytes()[:60])
    load = TRANSFORMS.build(dict(type='LoadPrimapsMasks', proposal_root=str(tmp_path / 'p')))
    with pytest.raises(ValueError, match=r'0000\.png is unreadable.*tools/precompute_primaps.py'):
        load(dict(img_path=str(textures / 'img_dir' / 'train' / '0000.png'),
                  img=np.zeros((32, 32, 3), np.uint8)))


def test_manifest_records_the_run_and_a_mismatch_on_resume_is_an_error(tmp_path, textures):
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    ckpt = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': MODELS.build(Config.fromfile(str(cfg)).model).state_dict()}, ckpt)
    precompute.main([str(cfg), '--checkpoint', str(ckpt)])
    manifest = json.loads((tmp_path / 'p' / 'manifest.json').read_text())
    assert manifest['tool'] == 'precompute_primaps' and manifest['seed'] == 0
    assert manifest['checkpoint_sha256'] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert manifest['settings']['proposer']['type'] == 'PrimapsProposer'
    with pytest.raises(ValueError, match=r'manifest.json: checkpoint_sha256: stored'):
        precompute.main([str(cfg)])
    with pytest.raises(ValueError, match=r'seed: stored 0, now 1'):
        precompute.main([str(cfg), '--checkpoint', str(ckpt), '--seed', '1'])
    with pytest.raises(ValueError) as refused:
        precompute.main([str(cfg), '--checkpoint', str(ckpt), '--cfg-options',
                         'primaps_precompute.proposer.threshold=0.5'])
    # only the differing entry, with both values (not the whole settings dump)
    assert 'manifest.json: settings.proposer.threshold: stored None, now 0.5)' in str(
        refused.value)
    assert len(str(refused.value)) < 400


def test_a_run_that_failed_before_any_map_leaves_no_manifest(tmp_path, textures):
    """Offline, the default weights URL fails: nothing is claimed, the corrected rerun runs."""
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    unreachable = f"dict(type='Pretrained', checkpoint={str(tmp_path / 'no_weights.pth')!r})"
    cfg.write_text(cfg.read_text().replace('init_cfg=None', f'init_cfg={unreachable}'))
    with pytest.raises(FileNotFoundError):
        precompute.main([str(cfg)])
    assert not (tmp_path / 'p' / 'manifest.json').exists()
    assert precompute.main([str(cfg), '--cfg-options', 'model.backbone.init_cfg=None']) == 6


def test_a_folder_without_maps_is_no_other_run(tmp_path, textures):
    """A manifest left beside no map (an older tool wrote it before failing) is replaced."""
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    (tmp_path / 'p').mkdir()
    (tmp_path / 'p' / 'manifest.json').write_text(json.dumps(dict(tool='precompute_primaps',
                                                                  seed=5)))
    assert precompute.main([str(cfg)]) == 6
    assert json.loads((tmp_path / 'p' / 'manifest.json').read_text())['seed'] == 0


def test_maps_without_a_manifest_are_not_resumed(tmp_path, textures):
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    (tmp_path / 'p').mkdir()
    (tmp_path / 'p' / '0000.png').write_bytes(b'from an older run')
    with pytest.raises(ValueError, match=r'holds \.png files but no manifest\.json'):
        precompute.main([str(cfg)])


def test_sizes_stated_or_taken_from_the_backbone_are_the_same_run(tmp_path, textures):
    """The manifest records the built sizes: a cache made by a config stating in_channels and
    size_divisor is resumed by one that leaves them to the backbone, and the reverse."""
    cfg = write_primaps_config(tmp_path / 'cfg.py', textures, tmp_path / 'p')
    stated = ['--cfg-options', 'model.data_preprocessor.size_divisor=4']
    assert precompute.main([str(cfg), *stated]) == 6
    settings = json.loads((tmp_path / 'p' / 'manifest.json').read_text())['settings']['model']
    assert settings['decode_head']['in_channels'] == 32
    assert settings['data_preprocessor']['size_divisor'] == 4
    assert precompute.main([str(cfg), '--cfg-options', 'model.decode_head.in_channels=None']) == 0
    (tmp_path / 'p' / '0002.png').unlink()
    assert precompute.main([str(cfg)]) == 1
