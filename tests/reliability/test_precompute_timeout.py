"""tools/precompute_primaps.py waits for a missing rank only env_cfg.dist_cfg.timeout."""
import os
import subprocess
import sys
import time

from ..tools.conftest import free_port
from .cache_toys import REPO, write_primaps_config


def test_missing_rank_fails_after_the_configured_timeout(tmp_path):
    cfg = write_primaps_config(tmp_path / 'cfg.py', tmp_path, tmp_path / 'p')
    port = free_port()
    env = {**os.environ, 'RANK': '0', 'LOCAL_RANK': '0', 'WORLD_SIZE': '2',
           'MASTER_ADDR': '127.0.0.1', 'MASTER_PORT': str(port)}
    start = time.monotonic()
    proc = subprocess.run(  # rank 1 never starts
        [sys.executable, str(REPO / 'tools' / 'precompute_primaps.py'), str(cfg), '--launcher',
         'pytorch', '--cfg-options', 'env_cfg.dist_cfg.timeout=3'],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'timeout' in proc.stderr.lower() or 'timed out' in proc.stderr.lower(), proc.stderr
    assert time.monotonic() - start < 60
