"""SIGTERM to tools/dist_train.sh stops torchrun and every worker."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..tools.conftest import REPO, free_port


def descendants(pid: int) -> set:
    """Pids of all live descendants of ``pid`` (from /proc)."""
    children = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_sigterm_stops_torchrun_and_its_workers(tmp_path, tiny_data, tiny_config):
    cfg = tiny_config(tiny_data, train_cfg='dict(max_iters=100000, val_interval=100000)')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO))
    proc = subprocess.Popen(['bash', str(REPO / 'tools' / 'dist_train.sh'), str(cfg), '2',
                             '--work-dir', str(tmp_path / 'w')], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / 'w').glob('*/vis_data/scalars.json')):  # training runs
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(1)
        job = descendants(proc.pid) | {proc.pid}
        assert len(job) >= 3  # torchrun and two workers
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(alive(p) for p in job) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not [p for p in job if alive(p)], 'processes left running after SIGTERM'
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
