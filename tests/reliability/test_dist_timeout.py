"""env_cfg.dist_cfg.timeout bounds how long CPU (gloo) ranks wait for a stopped rank."""
import os
import subprocess
import sys
import time

from ..tools.conftest import REPO, free_port

STALL_HOOK = '''
import time
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class StallRankOneHook(Hook):
    def before_train(self, runner):
        if get_rank() == 1:
            time.sleep(90)
'''


def test_stopped_rank_fails_the_job_after_the_configured_timeout(tmp_path, tiny_data,
                                                                  tiny_config):
    (tmp_path / 'stall_hook.py').write_text(STALL_HOOK)
    cfg = tiny_config(
        tiny_data, custom_imports="dict(imports=['mmuss', 'stall_hook'])",
        custom_hooks="[dict(type='StallRankOneHook')]",
        env_cfg="dict(dist_cfg=dict(backend='nccl', timeout=4))")
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}')
    start = time.monotonic()
    proc = subprocess.run(['bash', str(REPO / 'tools' / 'dist_train.sh'), str(cfg), '2',
                           '--work-dir', str(tmp_path / 'w')], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    assert elapsed < 60, f'waited {elapsed:.0f} s for the stalled rank (timeout 4 s)'
