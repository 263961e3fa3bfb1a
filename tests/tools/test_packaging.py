"""The wheel ships configs and tools (mmuss/.mim) so `_base_ = 'mmuss::...'` works elsewhere."""
import os
import shutil
import subprocess
import sys
import zipfile

from .conftest import REPO

USER_CONFIG = '''
_base_ = ['mmuss::baseline/baseline_vit-tiny-p4_100i_synthetic-textures-96.py']
data_root = {root!r}
model = dict(backbone=dict(arch=dict(embed_dims=32, num_layers=1, num_heads=2)),
             decode_head=dict(in_channels=32))
train_dataloader = dict(batch_size=4, dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=4, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2))
custom_hooks = []
'''


def test_wheel_ships_configs_and_tools_for_mmuss_scope_inheritance(tmp_path, tiny_data):
    wheels, site, source = tmp_path / 'wheels', tmp_path / 'site', tmp_path / 'source'
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', 'build', '*.egg-info', '__pycache__', 'work_dirs', '.venv'))  # build out of tree
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
                    '--no-build-isolation', '-w', str(wheels), str(source)], check=True,
                   cwd=tmp_path, timeout=300)
    wheel = next(wheels.glob('mmuss-*.whl'))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(next(n for n in names if n.endswith('METADATA'))).decode()
    for path in ('mmuss/.mim/model-index.yml', 'mmuss/.mim/configs/_base_/default_runtime.py',
                 'mmuss/.mim/configs/baseline/baseline_vit-tiny-p4_100i_synthetic-textures-96.py',
                 'mmuss/.mim/tools/train.py', 'mmuss/.mim/tools/dist_train.sh'):
        assert path in names, path
    assert 'mmpretrain' not in metadata

    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target',
                    str(site), str(wheel)], check=True, timeout=300)
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'my_config.py').write_text(USER_CONFIG.format(root=str(tiny_data)))
    proc = subprocess.run(
        [sys.executable, str(site / 'mmuss' / '.mim' / 'tools' / 'train.py'), 'my_config.py',
         '--work-dir', 'work'],
        env=dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1'), cwd=project,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (project / 'work' / 'iter_2.pth').is_file()


def make_install_commands(*variables: str) -> str:
    """The commands ``make install`` would run (``make -n``), with these ``NAME=value``s."""
    return subprocess.run(['make', '-n', '-B', 'install', 'VENV=/nonexistent/venv', *variables],
                          cwd=REPO, capture_output=True, text=True, check=True).stdout


def test_make_install_takes_torch_from_the_named_index():
    cpu = 'https://download.pytorch.org/whl/cpu'
    torch_line = next(line for line in make_install_commands(f'TORCH_INDEX={cpu}').splitlines()
                      if 'pip install' in line and 'torch==' in line)
    assert f'--index-url "{cpu}"' in torch_line
    default = [line for line in make_install_commands().splitlines() if 'pip install' in line]
    assert default and not any('--index-url' in line for line in default)


SCOPED_CONFIG = "_base_ = ['mmuss::baseline/baseline_vit-tiny-p4_100i_synthetic-textures-96.py']\n"


def test_mmuss_scope_resolves_to_the_imported_package(tmp_path):
    """``make install`` installs mmuss editable, where mmengine's own lookup finds no configs."""
    from mmengine.config import Config
    (tmp_path / 'my_config.py').write_text(SCOPED_CONFIG)
    cfg = Config.fromfile(str(tmp_path / 'my_config.py'))
    assert cfg.model.decode_head.type == 'ClusterProbeHead'


def test_missing_mim_folder_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    from mmengine.config import Config

    from mmuss.utils import config_scope
    monkeypatch.setattr(config_scope, 'PACKAGE_DIR', str(tmp_path / 'mmuss'))
    (tmp_path / 'my_config.py').write_text(SCOPED_CONFIG)
    try:
        Config.fromfile(str(tmp_path / 'my_config.py'))
    except FileNotFoundError as err:
        message = str(err)
    assert message.startswith(f"'mmuss::' configs need {tmp_path}/mmuss/.mim/model-index.yml, "
                              f"which is missing: reinstall mmuss")
    assert '\n' not in message
