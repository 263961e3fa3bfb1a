"""2-process dist_train.sh / dist_test.sh runs end cleanly, run after run (issue 21).

gloo aborted about 1 run in 20 at interpreter exit ("terminate called without an active
exception") when the DDP-wrapped model, kept in a reference cycle, outlived the process group.
``MMUSS_EXIT_RUNS`` (default 40) consecutive runs of each tool, with ``MMUSS_EXIT_PROCS``
(default 2) processes, must all exit with status 0. More processes make the race likelier.
"""
import json
import os
import subprocess
import sys

import pytest

from ..tools.conftest import REPO, free_port

RUNS = int(os.environ.get('MMUSS_EXIT_RUNS', '40'))
PROCS = os.environ.get('MMUSS_EXIT_PROCS', '2')


def run_dist(script: str, args: list) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO))
    return subprocess.run(['bash', str(REPO / 'tools' / script), *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def aborted(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode != 0 or 'terminate called' in proc.stderr


@pytest.mark.slow
def test_many_two_process_runs_exit_cleanly(tmp_path, tiny_data, tiny_config, train_tool):
    cfg = tiny_config(tiny_data)
    train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'first'), '--cfg-options',
                     'experiment_name=first', 'train_cfg.max_iters=2'])
    checkpoint = tmp_path / 'first' / 'iter_2.pth'
    failures = {'dist_train.sh': [], 'dist_test.sh': []}
    for run in range(RUNS):
        train = run_dist('dist_train.sh', [str(cfg), PROCS, '--work-dir', str(tmp_path / 'train'),
                                           '--cfg-options', f'experiment_name=t{run}',
                                           'train_cfg.max_iters=2'])
        test = run_dist('dist_test.sh', [str(cfg), str(checkpoint), PROCS, '--work-dir',
                                         str(tmp_path / 'test'), '--cfg-options',
                                         f'experiment_name=e{run}'])
        for name, proc in (('dist_train.sh', train), ('dist_test.sh', test)):
            if aborted(proc):
                failures[name].append((run, proc.returncode, proc.stderr[-1500:]))
    print(json.dumps({'runs_per_tool': RUNS, 'processes': int(PROCS),
                      'aborts': {name: len(found) for name, found in failures.items()}}))
    assert not any(failures.values()), failures
