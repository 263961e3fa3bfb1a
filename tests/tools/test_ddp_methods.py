"""Every method trains under tools/dist_train.sh with 2 gloo processes, past any warm-up."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmuss.datasets.synthetic_textures import generate_synthetic_textures

from . import test_mask_contrast_train as mask_contrast
from . import test_primaps_em_train as primaps
from . import test_stego_hp_train as stego_hp
from .conftest import REPO, free_port, load_tool

COMMON_PRIMAPS = REPO / 'configs' / '_base_' / 'primaps_em' / 'common.py'
TOYS = REPO / 'tests'  # primaps_toys registers the PatchColourBackbone


@pytest.fixture(scope='module')
def textures(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('ddp_textures')
    generate_synthetic_textures(str(root), num_train=16, num_val=4, size=32, seed=5)
    return root


def primaps_config(tmp_path: Path, root: Path, online: bool) -> Path:
    """The PriMaPs-EM test config on the method's shipped base (warm-up 4, EM to 8)."""
    path = primaps.write_config(tmp_path, root, online, max_iters=8)
    text = path.read_text().replace(
        "frozen_probe_2k.py'", f"frozen_probe_2k.py', {str(COMMON_PRIMAPS)!r}", 1)
    text += "custom_imports = dict(imports=['mmuss', 'primaps_toys'])\n"
    path.write_text(text)
    if not online:
        assert load_tool('precompute_primaps').main([str(path)]) == 16
    return path


def config_for(method: str, tmp_path: Path, root: Path, voc: Path) -> Path:
    if method == 'baseline':
        from .conftest import write_tiny_config
        return write_tiny_config(tmp_path, root)
    if method in ('primaps-em-cached', 'primaps-em-online'):
        return primaps_config(tmp_path, root, online=method.endswith('online'))
    if method == 'stego':
        knn = tmp_path / 'nns.npz'
        cfg = stego_hp.write_config(tmp_path, root, stego_hp.STEGO, knn=str(knn))
        load_tool('precompute_knns').main([cfg, '--out', str(knn), '--topk', '5',
                                           '--chunk-size', '4', '--batch-size', '4',
                                           '--num-workers', '0'])
        return Path(cfg)
    if method == 'hp':
        return Path(stego_hp.write_config(tmp_path, root, stego_hp.HP, pool_size=8))
    return mask_contrast.tiny_config(tmp_path, voc)


SLOW = pytest.mark.slow  # ~1 min each on 2 shared cores; `pytest -m slow` runs them


@pytest.mark.parametrize('method', [
    pytest.param('baseline', marks=SLOW), pytest.param('primaps-em-cached', marks=SLOW),
    'primaps-em-online', pytest.param('stego', marks=SLOW), pytest.param('hp', marks=SLOW),
    pytest.param('maskcontrast', marks=SLOW)])
def test_two_process_training(tmp_path, textures, method, request, monkeypatch):
    monkeypatch.syspath_prepend(str(TOYS))  # the config imports primaps_toys
    voc = request.getfixturevalue('voc_like') if method == 'maskcontrast' else None
    cfg = config_for(method, tmp_path, textures, voc)
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PORT=str(free_port()),
               PYTHONPATH=os.pathsep.join([str(REPO), str(TOYS)]))
    work = tmp_path / 'work'
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(cfg), '2', '--work-dir', str(work),
         '--cfg-options', 'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
         'default_hooks.checkpoint.interval=6', f'experiment_name={method}'],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (work / 'iter_6.pth').is_file()


voc_like = mask_contrast.voc_like
