"""Fixtures for end-to-end runs of tools/*.py on a tiny synthetic dataset."""
import importlib.util
import os.path as osp
import socket
from pathlib import Path
from types import ModuleType

import pytest

from mmuss.datasets.synthetic_textures import generate_synthetic_textures

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / 'configs' / 'baseline' / 'baseline_vit-tiny-p4_100i_synthetic-textures-96.py'


def free_port() -> int:
    """A free local TCP port for a test's process group (fixed ports collide across runs)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    path = REPO / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'mmuss_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def train_tool() -> ModuleType:
    return load_tool('train')


@pytest.fixture(scope='session')
def test_tool() -> ModuleType:
    return load_tool('test')


@pytest.fixture
def tiny_config(tmp_path):
    """Factory: ``tiny_config(data_root, **overrides)`` → path of a shrunk demo config."""
    return lambda data_root, **overrides: write_tiny_config(tmp_path, data_root, **overrides)


def write_tiny_config(tmp_path: Path, data_root: Path, **overrides: str) -> Path:
    """A config inheriting the demo config, shrunk to seconds of CPU work."""
    lines = [
        f'_base_ = [{str(DEMO_CONFIG)!r}]',
        f'data_root = {str(data_root)!r}',
        'model = dict(backbone=dict(arch=dict(embed_dims=32, num_layers=1, num_heads=2)),',
        '             decode_head=dict(in_channels=32))',
        'train_dataloader = dict(batch_size=4, dataset=dict(data_root=data_root))',
        'val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))',
        'test_dataloader = val_dataloader',
        'train_cfg = dict(max_iters=4, val_interval=2)',
        'default_hooks = dict(logger=dict(interval=1),',
        '                     checkpoint=dict(interval=2, max_keep_ckpts=5))',
        "custom_hooks = [dict(type='PrototypeInitHook', method='kmeans', num_batches=1)]",
    ]
    lines += [f'{k} = {v}' for k, v in overrides.items()]
    path = tmp_path / 'tiny_config.py'
    path.write_text('\n'.join(lines) + '\n')
    return path


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory) -> Path:
    """7 val images (odd, so 2-rank samplers must pad) and 12 train images of 32×32."""
    root = tmp_path_factory.mktemp('synthetic_textures')
    generate_synthetic_textures(str(root), num_train=12, num_val=7, size=32, seed=3)
    assert osp.isdir(root / 'img_dir' / 'val')
    return root
