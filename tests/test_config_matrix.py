"""Every shipped config trains 2 iterations, validates and tests on fake data.

See tests/config_matrix.py for what is run and the options added.

New configs under configs/ are covered by the glob, without editing this file. A failure names
the config, the step (artefacts, train, test) and the first error. Under pytest-xdist
(``make test`` runs ``-n 2 --dist loadgroup``) each worker has its own sandbox and a chain of
configs (one reading another's work dir) stays in one worker.
"""
import io
import os
import shutil
import subprocess
import sys

import mmengine.runner.checkpoint as mmengine_checkpoint
import pytest
import torch

from .config_matrix import (CONFIGS, REPO, Sandbox, config_readers, dependency_groups,
                            direct_save, mapped_load, scratch_dir)

GROUPS = dependency_groups()


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory):
    with scratch_dir(tmp_path_factory.mktemp, 'config_matrix') as root:
        box = Sandbox(root)
        yield box
        shutil.rmtree(box.root / 'work_dirs', ignore_errors=True)  # checkpoints: gigabytes
    report = os.environ.get('MMUSS_MATRIX_TIMES')
    if report:  # one file per xdist worker
        with open(report + os.environ.get('PYTEST_XDIST_WORKER', ''), 'w') as f:
            for outcome in box.outcomes.values():
                f.write(f'{outcome.seconds:7.2f} {outcome.cpu_seconds:7.2f} {outcome.config} '
                        f'{"FAILED" if outcome.error else "ok"}\n')
            for key, seconds in box.made.items():
                f.write(f'{seconds:7.2f} artefact {key}\n')


@pytest.mark.parametrize('config', [
    pytest.param(str(c), marks=pytest.mark.xdist_group(GROUPS[str(c)][8:-3]))
    for c in CONFIGS], ids=lambda c: c[8:-3])
def test_config_trains_validates_and_tests(sandbox, config):
    outcome = sandbox.run(config)
    if outcome.error:
        pytest.fail(outcome.error, pytrace=False)
    assert outcome.checkpoint, f'{config}: no checkpoint written'
    if 'test' in outcome.steps:
        assert outcome.metrics, f'{config}: tools/test.py returned no metrics'


def test_a_failing_config_is_named_with_its_step_and_first_error(sandbox):
    broken = sandbox.root / 'broken' / 'baseline_no-such-head.py'
    broken.parent.mkdir(exist_ok=True)
    broken.write_text("_base_ = ['../configs/baseline/baseline_vit-tiny-p4_100i_synthetic-textures"
                      "-96.py']\nmodel = dict(decode_head=dict(type='NoSuchHead'))\n")
    outcome = sandbox.run('broken/baseline_no-such-head.py')
    first_line = outcome.error.splitlines()[0]
    assert first_line.startswith('broken/baseline_no-such-head.py (train): KeyError:'), first_line
    assert 'NoSuchHead' in first_line


def test_leaves_are_found_by_glob():
    leaves = {p.relative_to(REPO) for p in (REPO / 'configs').glob('**/*.py')
              if '_base_' not in p.relative_to(REPO / 'configs').parts}
    assert leaves and set(CONFIGS) == leaves


def test_a_chain_of_configs_shares_one_xdist_group():
    for config in CONFIGS:
        for reader in config_readers(checkpoints=False)[config.stem]:
            assert GROUPS[reader] == GROUPS[str(config)], (reader, config)


def test_direct_save_writes_the_bytes_mmengine_writes(tmp_path):
    checkpoint = dict(meta=dict(iter=2), state_dict=dict(w=torch.arange(6.).view(2, 3)))
    mmengine_checkpoint.save_checkpoint(checkpoint, str(tmp_path / 'mmengine.pth'))
    direct_save(mmengine_checkpoint.save_checkpoint)(checkpoint, str(tmp_path / 'd' / 'x.pth'))
    assert (tmp_path / 'd' / 'x.pth').read_bytes() == (tmp_path / 'mmengine.pth').read_bytes()


def test_mapped_load_maps_files_and_reads_buffers(tmp_path):
    torch.save(dict(w=torch.arange(4.)), tmp_path / 'x.pth')
    mmaps = []

    def spy(f, *args, mmap=None, **kwargs):
        mmaps.append(mmap)
        return torch.load(f, *args, mmap=mmap, **kwargs)

    load = mapped_load(spy)
    assert torch.equal(load(str(tmp_path / 'x.pth'), weights_only=True)['w'], torch.arange(4.))
    buffer = io.BytesIO((tmp_path / 'x.pth').read_bytes())
    assert torch.equal(load(buffer, weights_only=True)['w'], torch.arange(4.))
    assert mmaps == [True, None]


def test_loadgroup_keeps_a_group_in_one_worker(tmp_path):
    pytest.importorskip('xdist')
    (tmp_path / 'conftest.py').write_text(
        'import importlib.util\n'
        f'spec = importlib.util.spec_from_file_location("suite_conftest", '
        f'{str(REPO / "tests" / "conftest.py")!r})\n'
        'suite = importlib.util.module_from_spec(spec)\n'
        'spec.loader.exec_module(suite)\n'
        'pytest_configure = suite.pytest_configure\n'
        'pytest_collection_modifyitems = suite.pytest_collection_modifyitems\n')
    (tmp_path / 'test_groups.py').write_text(
        'import os, pytest\n'
        '@pytest.mark.parametrize("i", [pytest.param(i, marks=pytest.mark.xdist_group(\n'
        '    "chain" if i < 4 else f"alone{i}")) for i in range(8)])\n'
        'def test_worker(i):\n'
        '    with open(f"worker_{i}", "w") as f:\n'
        '        f.write(os.environ["PYTEST_XDIST_WORKER"])\n')
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-n', '2', '--dist',
         'loadgroup', 'test_groups.py'], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    workers = [(tmp_path / f'worker_{i}').read_text() for i in range(8)]
    assert len(set(workers[:4])) == 1, workers
