"""tools/dist_train.sh with load_from, tools/dist_test.sh with --show-dir: 2 gloo processes."""
import json
import os
import subprocess
import sys

from .conftest import REPO, free_port


def run_dist(script: str, args: list) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=str(REPO))
    return subprocess.run(['bash', str(REPO / 'tools' / script), *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_dist_train_from_checkpoint_then_dist_test(tmp_path, tiny_data, tiny_config, train_tool,
                                                  test_tool):
    cfg = tiny_config(tiny_data)
    first = tmp_path / 'first'
    train_tool.main([str(cfg), '--work-dir', str(first), '--cfg-options', 'experiment_name=a',
                     'train_cfg.max_iters=2'])
    ddp = tmp_path / 'ddp'
    proc = run_dist('dist_train.sh', [str(cfg), '2', '--work-dir', str(ddp), '--cfg-options',
                                      f'load_from={first / "iter_2.pth"}', 'experiment_name=b',
                                      'train_cfg.max_iters=2'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (ddp / 'iter_2.pth').is_file()

    out, show = tmp_path / 'dist_test', tmp_path / 'show'
    proc = run_dist('dist_test.sh', [str(cfg), str(ddp / 'iter_2.pth'), '2', '--work-dir',
                                     str(out), '--show-dir', str(show), '--cfg-options',
                                     'experiment_name=c'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    drawn = sorted(p.name for p in show.rglob('*.png'))  # every rank's images, not rank 0's
    assert drawn == sorted(f'test_{p.name}_0.png'
                           for p in (tiny_data / 'img_dir' / 'val').glob('*.png'))
    metrics = next(p for p in out.glob('*/*.json') if p.name != 'cluster_to_class.json')
    ddp_miou = json.loads(metrics.read_text())['cluster/mIoU']
    single = test_tool.main([str(cfg), str(ddp / 'iter_2.pth'), '--work-dir',
                             str(tmp_path / 'single'), '--cfg-options', 'experiment_name=d'])
    assert single['cluster/mIoU'] == ddp_miou
