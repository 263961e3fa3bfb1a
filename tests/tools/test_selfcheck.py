"""tools/selfcheck.py end to end on CPU: shipped configs train, validate and predict."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmengine.config import Config

from mmuss.apis.selfcheck import (BACKBONE_CONFIGS, METHOD_CONFIGS, SYNTHESISED, is_pretrained,
                                  make_batch, pipeline_artefacts, prepare_config)

from .conftest import load_tool

REPO = Path(__file__).resolve().parents[2]


def selfcheck(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(REPO / 'tools' / 'selfcheck.py'), *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)


def result_of(proc: subprocess.CompletedProcess) -> dict:
    """The one JSON line on stdout."""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, (proc.stdout[-2000:], proc.stderr[-4000:])
    return json.loads(lines[0])


def assert_passed(name: str, record: dict, crop: int) -> None:
    assert record['status'] == 'pass', (name, record)
    train = record['train']
    assert train['crop'] == [crop, crop] and train['batch'] == 2
    assert train['iterations_per_s'] > 0 and train['images_per_s'] > 0
    assert train['peak_memory_mib'] > 0
    assert train['losses'] and all(math.isfinite(v) for v in train['losses'].values())
    if isinstance(record['val'], dict):
        assert record['val']['metrics'] and record['val']['crop'] == [crop, crop]
        assert record['inference']['image'][0] == crop


def test_cpu_selfcheck_of_cause_mlp():
    proc = selfcheck('--device', 'cpu', '--methods', 'cause-mlp', '--crop', '64',
                     '--backbones', 'dino-vit-b8')
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = result_of(proc)
    assert result['passed'] is True
    assert result['settings'] == dict(
        iters=1, warmup=0, amp='config', crop=64, batch=2, cfg_options={}, backbone_batch=1,
        backbone_iters=1, backbone_warmup=0)
    assert result['synthesised'] == SYNTHESISED
    mlp = result['methods']['cause-mlp']
    assert_passed('cause-mlp', mlp, 64)
    # CAUSE trains with fp16 AMP; on a CPU that is bf16 autocast, and the JSON says so
    assert mlp['precision'] == 'bf16' and 'CPU' in mlp['precision_source']
    assert 'decode.loss_front' in mlp['train']['losses']
    assert mlp['synthesised'] == ['cause clusterbook']
    assert mlp['config'] == 'configs/' + METHOD_CONFIGS['cause-mlp']
    backbone = result['backbones']['dino-vit-b8']
    assert backbone['status'] == 'pass' and backbone['crop'] == 64
    assert backbone['fp32_images_per_s'] > 0 and backbone['bf16_images_per_s'] > 0
    progress = [line for line in proc.stderr.splitlines() if line.startswith('[selfcheck] ')]
    assert [line.split(':')[0] for line in progress] == [
        '[selfcheck] cause-mlp', '[selfcheck] backbone dino-vit-b8']


def test_a_failing_method_is_reported_and_fails_the_exit_status(tmp_path):
    broken = tmp_path / 'broken.py'
    shipped = Path(REPO, 'configs', METHOD_CONFIGS['cause-mediator'])
    broken.write_text(f'_base_ = [{str(shipped)!r}]\n'
                      "model = dict(decode_head=dict(type='NoSuchHead'))\n")
    proc = selfcheck('--device', 'cpu', '--methods', 'broken', '--configs', f'broken={broken}',
                     '--crop', '64', '--backbones')
    assert proc.returncode == 1
    result = result_of(proc)
    record = result['methods']['broken']
    assert result['passed'] is False and result['backbones'] == {}
    assert record['status'] == 'fail' and record['failed_step'] == 'model'
    assert 'NoSuchHead' in record['error'] and record['config'] == str(broken)
    assert '[selfcheck] broken: FAIL in model' in proc.stderr


def test_unknown_method_and_malformed_config_are_refused_by_the_parser(capsys):
    tool = load_tool('selfcheck')
    for argv, message in ((['--methods', 'nonesuch'], 'unknown methods'),
                          (['--configs', 'nonesuch'], 'expected METHOD=CONFIG')):
        with pytest.raises(SystemExit) as exit_info:
            tool.parse_args(['--device', 'cpu', *argv])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
    defaults = tool.parse_args(['--device', 'cpu'])
    assert (defaults.crop, defaults.batch, defaults.iters, defaults.methods) == (
        112, 2, 1, list(METHOD_CONFIGS))
    cuda = tool.parse_args(['--device', 'cuda'])
    assert (cuda.crop, cuda.batch, cuda.iters, cuda.warmup) == (None, None, 5, 2)


# Data-sample fields each method's synthetic training batch must carry, and what it synthesises.
FIELDS = {
    'baseline': ({'gt_sem_seg'}, []),
    'primaps-em': ({'gt_sem_seg', 'gt_primaps', 'img_student'}, ['primaps-em proposals']),
    'stego': ({'gt_sem_seg', 'knn_img'}, ['stego knn partner']),
    'hp': ({'gt_sem_seg', 'img_aug'}, []),
    'maskcontrast': ({'gt_saliency', 'gt_key_saliency', 'key_img'}, ['maskcontrast saliency']),
    'cause-mediator': ({'gt_sem_seg'}, []),
    'cause-mlp': ({'gt_sem_seg'}, []),
    'cause-tr': ({'gt_sem_seg'}, []),
}


@pytest.mark.parametrize('method', list(METHOD_CONFIGS))
def test_prepared_config_and_synthetic_batch(method):
    cfg = Config.fromfile(str(REPO / 'configs' / METHOD_CONFIGS[method]))
    prepared = prepare_config(cfg, crop=48, batch=3)
    assert 'Pretrained' not in str(prepared.model)
    assert prepared.model.decode_head.get('clusterbook_file') is None
    assert is_pretrained(cfg.model.backbone.init_cfg)  # the shipped config is unchanged
    assert prepared.train_dataloader.batch_size == 3
    if method == 'cause-tr':
        assert prepared.model.decode_head.num_queries == (48 // 8)**2
    batch = make_batch(prepared.train_dataloader, 3, 0)
    fields, artefacts = FIELDS[method]
    assert pipeline_artefacts(prepared.train_dataloader) == artefacts
    assert len(batch['inputs']) == 3
    for inputs, sample in zip(batch['inputs'], batch['data_samples']):
        assert inputs.dtype == torch.uint8 and tuple(inputs.shape) == (3, 48, 48)
        assert fields <= set(sample.keys())
        for name in fields - {'gt_sem_seg', 'gt_primaps', 'gt_saliency', 'gt_key_saliency'}:
            assert tuple(sample.get(name).shape) == (3, 48, 48)  # a view, pixel-aligned
    if 'gt_primaps' in fields:  # mask ids = labels + 1 where labelled, 255 elsewhere
        sample = batch['data_samples'][0]
        labels, ids = sample.gt_sem_seg.data, sample.gt_primaps.data
        assert torch.equal(ids, torch.where(labels == 255, 255, labels.long() + 1))


@pytest.mark.slow
def test_cpu_selfcheck_of_every_method_and_backbone():
    """The CPU defaults (crop 112, batch 2) over every shipped method and backbone."""
    proc = selfcheck('--device', 'cpu', timeout=3600)
    result = result_of(proc)
    assert set(result['methods']) == set(METHOD_CONFIGS)
    assert set(result['backbones']) == set(BACKBONE_CONFIGS)
    for name, record in result['methods'].items():
        assert_passed(name, record, 112)
    assert proc.returncode == 0 and result['passed'] is True
