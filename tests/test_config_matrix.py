"""Every shipped config trains 2 iterations, validates and tests on fake data.

See tests/config_matrix.py for what is run and the options added.

New configs under configs/ are covered by the glob, without editing this file. A failure names
the config, the step (artefacts, train, test) and the first error.
"""
import os
import shutil

import pytest

from .config_matrix import CONFIGS, Sandbox, scratch_dir


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory):
    with scratch_dir(tmp_path_factory.mktemp, 'config_matrix') as root:
        box = Sandbox(root)
        yield box
        shutil.rmtree(box.root / 'work_dirs', ignore_errors=True)  # checkpoints: gigabytes
    report = os.environ.get('MMUSS_MATRIX_TIMES')
    if report:
        with open(report, 'w') as f:
            for outcome in box.outcomes.values():
                f.write(f'{outcome.seconds:7.2f} {outcome.cpu_seconds:7.2f} {outcome.config} '
                        f'{"FAILED" if outcome.error else "ok"}\n')
            for key, seconds in box.made.items():
                f.write(f'{seconds:7.2f} artefact {key}\n')


@pytest.mark.parametrize('config', [str(c) for c in CONFIGS], ids=lambda c: c[8:-3])
def test_config_trains_validates_and_tests(sandbox, config):
    outcome = sandbox.run(config)
    if outcome.error:
        pytest.fail(outcome.error, pytrace=False)
    assert outcome.checkpoint, f'{config}: no checkpoint written'
    if 'test' in outcome.steps:
        assert outcome.metrics, f'{config}: tools/test.py returned no metrics'
