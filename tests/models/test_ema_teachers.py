"""One EMATeacher lifecycle for HP, CAUSE, PriMaPs-EM and MaskContrast (docs/architecture.md).

Each method trains N steps through its segmentor's ``loss``; after each loss a fake optimiser step
shifts the students. The teacher each loss *reads* must be the hand-computed EMA: updated at the
start of every step but the first, with the students of that step (HP: of the step before, as the
reference updates after the teacher's forward and before the optimiser step).
"""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmuss.models.decode_heads.primaps_em_head import primaps_ema_decay
from mmuss.models.utils.ema import EMATeacher, update_teachers

from ..stego_hp_toys import samples, toy_segmentor_cfg
from .segmentors.maskcontrast_toys import tiny_batch, tiny_model

STEPS = 6


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def check_lifecycle(owner, teacher_pairs, read_by, run_loss, momenta, lagged=False):
    """Run ``STEPS`` losses; compare the teachers ``read_by`` sees with the hand-made EMA.

    ``momenta[i]`` is the momentum of the update at the start of step ``i`` (``None``: none),
    towards the students of step ``i`` (``lagged``: of step ``i − 1``, before its optimiser step).
    """
    expected = {t: params(getattr(owner, t)) for t in teacher_pairs}
    seen = []
    handle = getattr(owner, read_by).register_forward_pre_hook(
        lambda *_: seen.append({t: params(getattr(owner, t)) for t in teacher_pairs}))
    before = {}
    for i in range(STEPS):
        now = {s: params(getattr(owner, s)) for s in teacher_pairs.values()}
        students = before if lagged else now
        if momenta[i] is not None:
            m = momenta[i]
            for t, s in teacher_pairs.items():
                expected[t] = [m * e + (1 - m) * p for e, p in zip(expected[t], students[s])]
        before = now
        seen.clear()
        run_loss(i)
        assert seen, f'step {i}: {read_by} was not read'
        for t in teacher_pairs:
            for got, want in zip(seen[0][t], expected[t]):
                torch.testing.assert_close(got, want, msg=f'step {i}: {t}')
        with torch.no_grad():  # a fake optimiser step moves every student
            for s in teacher_pairs.values():
                for p in getattr(owner, s).parameters():
                    p.add_(0.01 * (i + 1))
    handle.remove()
    teacher = owner.teacher
    assert int(teacher.steps) == STEPS
    assert int(teacher.updates) == sum(m is not None for m in momenta)


def test_hp_teacher_follows_the_students_one_step_late():
    torch.manual_seed(0)
    model = MODELS.build(toy_segmentor_cfg(dict(
        type='HPHead', channels=6, num_classes=3, num_clusters=4, pool_size=4, ema_momentum=0.9,
        sigma=4.0, loss_hp=dict(type='HiddenPositiveLoss', temperature=0.5,
                                chunk_size=16)))).train()
    head = model.decode_head
    data = model.data_preprocessor(dict(
        inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8) for _ in range(2)],
        data_samples=samples(2)), True)
    agnostic, specific = head.pool_candidates(model.extract_feat(data['inputs']))
    head.set_pools(torch.cat([agnostic, agnostic]), torch.cat([specific, specific]))
    check_lifecycle(head, {'ema_linear': 'linear', 'ema_nonlinear': 'nonlinear'}, 'ema_linear',
                    lambda i: model.loss(data['inputs'], data['data_samples']),
                    [None] + [0.9] * (STEPS - 1), lagged=True)


def test_cause_teacher_follows_each_optimiser_step(tmp_path):
    from .decode_heads.test_cause_heads import book_file
    torch.manual_seed(0)
    model = MODELS.build(toy_segmentor_cfg(dict(
        type='CauseMLPHead', channels=5, num_classes=3,
        clusterbook_file=book_file(tmp_path, dims=16),
        num_codebook=6, proj_channels=7, grid_stride=2, bank_size=4, ema_momentum=0.8)))
    model.init_weights()
    model.train()
    images = torch.randn(2, 3, 16, 16)
    batch = samples(2, views=())
    check_lifecycle(model.decode_head, {'head_ema': 'head', 'projection_ema': 'projection'},
                    'head_ema', lambda i: model.loss(images, batch),
                    [None] + [0.8] * (STEPS - 1))


def test_cause_probe_stage_does_not_teach(tmp_path):
    from .decode_heads.test_cause_heads import make_head
    head = make_head(tmp_path, 'mlp', front_door=False)
    before = params(head.head_ema)
    for _ in range(3):
        update_teachers(head)
        with torch.no_grad():
            for p in head.head.parameters():
                p.add_(1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, params(head.head_ema)))
    assert int(head.teacher.steps) == 0


def test_primaps_theta_m_follows_theta_r_on_the_hook_schedule():
    torch.manual_seed(0)
    model = MODELS.build(toy_segmentor_cfg(dict(type='PrimapsEMHead', num_classes=3,
                                                student_view=None))).train()
    head = model.decode_head
    head.set_momentum_schedule(interval=1, max_decay=0.98)
    images = torch.randn(2, 3, 16, 16)
    batch = samples(2, views=())
    for sample in batch:
        ids = torch.full((1, 16, 16), 255)
        ids[:, :8], ids[:, 8:, :8] = 1, 2
        sample.gt_primaps = PixelData(data=ids)
    update_teachers(model)  # warm-up: θ_M does not follow
    assert int(head.teacher.steps) == 0
    head.start_em()
    # reference: update call c after EM iteration t = c (interval 1, t > 0) → start of step t + 1
    momenta = [None, None] + [primaps_ema_decay(c) for c in range(1, STEPS - 1)]
    check_lifecycle(head, {'theta_m': 'theta_r'}, 'theta_m',
                    lambda i: model.loss(images, batch), momenta)


def test_maskcontrast_key_encoder_is_updated_before_the_key_forward():
    torch.manual_seed(0)
    model = tiny_model(momentum=0.7).train()
    data = model.data_preprocessor(tiny_batch(), training=True)
    check_lifecycle(model, {'key_head': 'decode_head', 'key_backbone': 'backbone'}, 'key_head',
                    lambda i: model.loss(data['inputs'], data['data_samples']),
                    [None] + [0.7] * (STEPS - 1))


def test_schedule_interval_first_and_callable_momentum():
    owner = torch.nn.Module()
    owner.a, owner.b = torch.nn.Linear(1, 1, bias=False), torch.nn.Linear(1, 1, bias=False)
    owner.teacher = EMATeacher({'a': 'b'}, lambda c: 0.5 / c, interval=2, first=3)
    with torch.no_grad():
        owner.a.weight.fill_(0.0)
        owner.b.weight.fill_(1.0)
    used = [update_teachers(owner) for _ in range(8)]
    assert used == [{}, {}, {}, {'teacher': 0.5}, {}, {'teacher': 0.25}, {}, {'teacher': 0.5 / 3}]
    assert owner.a.weight.item() == pytest.approx(1 - 0.5 * 0.25 * 0.5 / 3)
    with pytest.raises(ValueError, match='interval'):
        EMATeacher({'a': 'b'}, 0.9, interval=0)


def test_a_trained_head_inside_a_frozen_code_backbone_keeps_its_teacher(tmp_path):
    """PriMaPs-EM on CAUSE: the frozen CAUSE head's code is its EMA head; it must not move."""
    from .decode_heads.test_cause_heads import book_file
    cause = dict(type='CauseMLPHead', in_channels=16, channels=5, num_classes=3,
                 clusterbook_file=book_file(tmp_path, dims=16), num_codebook=6, proj_channels=7,
                 grid_stride=2, bank_size=4)
    cfg = toy_segmentor_cfg(dict(type='PrimapsEMHead', num_classes=3, student_view=None))
    cfg['decode_head']['in_channels'] = 5  # the CAUSE code width
    cfg['backbone'] = dict(type='FrozenCodeBackbone', backbone=cfg['backbone'], head=cause)
    model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    frozen = model.backbone.head
    with torch.no_grad():
        for p in frozen.head.parameters():
            p.add_(1.0)  # the student differs from the EMA head that gives the code
    before = params(frozen.head_ema)
    for _ in range(3):
        model.loss(torch.randn(2, 3, 16, 16), samples(2, views=()))
    assert int(frozen.teacher.steps) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, params(frozen.head_ema)))


def test_a_checkpoint_without_the_previous_students_loads_them_from_the_students():
    """HP checkpoints written before ``teacher.previous`` existed still load (strictly)."""
    cfg = toy_segmentor_cfg(dict(type='HPHead', channels=6, num_classes=3, pool_size=4))
    state = MODELS.build(cfg).state_dict()
    old = {k: v for k, v in state.items() if '.teacher.previous.' not in k}
    assert len(old) < len(state)
    model = MODELS.build(cfg)
    model.load_state_dict(old, strict=True)
    head = model.decode_head
    for student in ('linear', 'nonlinear'):
        for got, want in zip(head.teacher.previous[student].state_dict().values(),
                             getattr(head, student).state_dict().values()):
            assert torch.equal(got, want)
