"""Divergent training stops at the first non-finite loss; NaN predictions are not scored."""
import pytest
import torch


def test_divergent_lr_stops_at_the_first_non_finite_loss(tmp_path, tiny_data, tiny_config,
                                                         train_tool):
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'work'
    good = train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options',
                            'train_cfg.max_iters=2', 'experiment_name=good'])
    assert good.iter == 2
    before = (work / 'iter_2.pth').read_bytes()
    # Restart in the same work dir from that checkpoint with an infinite lr: the first update
    # makes the weights non-finite, the second iteration's loss is NaN.
    with pytest.raises(FloatingPointError,
                       match=r'Non-finite loss at iteration 2: .*loss_cluster_probe=nan'):
        train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options',
                         f'load_from={work / "iter_2.pth"}', 'optim_wrapper.optimizer.lr=inf',
                         'experiment_name=diverged'])
    assert (work / 'iter_2.pth').read_bytes() == before  # not overwritten by NaN weights


def test_non_finite_logits_are_an_error_not_a_score(tmp_path, tiny_data, tiny_config, train_tool,
                                                    test_tool):
    cfg = tiny_config(tiny_data)
    work = tmp_path / 'work'
    train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options', 'train_cfg.max_iters=2',
                     'experiment_name=a'])
    ckpt = torch.load(work / 'iter_2.pth', map_location='cpu')
    ckpt['state_dict']['backbone.norm.weight'][0] = float('nan')
    bad = tmp_path / 'nan.pth'
    torch.save(ckpt, bad)
    with pytest.raises(FloatingPointError, match=r'seg_logits.*img_dir/val/.*\.png'):
        test_tool.main([str(cfg), str(bad), '--work-dir', str(tmp_path / 't'),
                        '--cfg-options', 'experiment_name=t'])


def test_non_finite_gradients_are_named():
    from mmuss.engine.hooks.non_finite_guard_hook import non_finite_grads
    ok, bad = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    ok.grad, bad.grad = torch.ones(2), torch.tensor([1.0, float('inf')])
    assert non_finite_grads([('ok', ok), ('bad', bad)]) == ['bad']
    assert non_finite_grads([('ok', ok)]) == []
