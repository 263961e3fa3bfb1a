"""Momentum teachers: the one EMA step and the one moment it runs (docs/architecture.md)."""
import logging
from typing import Callable, Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .freeze import frozen_copy

Momentum = Union[float, Callable[[int], float]]


@torch.no_grad()
def ema_update_(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """In-place ``θ_target ← m·θ_target + (1 − m)·θ_source`` over parameters.

    Buffers (e.g. BN statistics) evolve on their own.

    Args:
        target: Momentum copy, updated in place.
        source: Online model (same architecture).
        momentum: ``m`` in ``[0, 1]``; ``m = 0`` copies ``source``.
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f'EMA momentum must be in [0, 1], got {momentum}.')
    t_params, s_params = list(target.parameters()), list(source.parameters())
    if len(t_params) != len(s_params):
        raise ValueError(f'EMA target has {len(t_params)} parameters, source {len(s_params)}.')
    for t, s in zip(t_params, s_params):
        t.mul_(momentum).add_(s.detach(), alpha=1.0 - momentum)


class EMATeacher(nn.Module):
    """When and how fast an owner's momentum copies follow its online modules.

    The teacher and student modules stay attributes of the owner (a head or a
    segmentor) under their own names, so state-dict keys name what they hold;
    this child names the pairs and keeps the schedule's counters as buffers
    (``steps``: training steps seen since :meth:`reset`; ``updates``: EMA
    updates applied), so a resumed run continues exactly.

    :func:`update_teachers` is the one update point: the segmentor calls it at
    the start of every training ``loss``, i.e. after the optimiser step of the
    previous one. At that call, ``done = steps`` optimiser steps have been made
    since :meth:`reset`, and the teachers move iff ``done >= first`` and
    ``(done − first) % interval == 0``; there is nothing to follow before the
    first step, hence ``first >= 1``.

    With ``lag_owner`` the teachers follow the students as they were one
    training step earlier, i.e. before the previous optimiser step: the
    reference of HP updates its EMA inside the training forward, after the
    teacher's output and before backward (docs/methods/hp.md Q8). A copy of
    each student (``previous``, saved in checkpoints so a resumed run
    continues exactly) is refreshed at every training step. A checkpoint
    without it (written before it existed) loads the students' entries as
    the copies, and says so.

    Args:
        pairs: Teacher attribute → student attribute, on the owner.
        momentum: ``m``, or a function of the 1-based update number giving it.
        interval: Optimiser steps between updates.
        first: Optimiser steps made before the first update.
        lag_owner: The owner, to follow its students one step late; ``None``
            follows the current students.
    """

    def __init__(self, pairs: Dict[str, str], momentum: Momentum, interval: int = 1,
                 first: int = 1, lag_owner: Optional[nn.Module] = None) -> None:
        super().__init__()
        if interval < 1 or first < 1:
            raise ValueError(f'EMATeacher needs interval >= 1 and first >= 1, got {interval} '
                             f'and {first}.')
        self.pairs = dict(pairs)
        self.momentum = momentum
        self.interval = interval
        self.first = first
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))
        self.register_buffer('updates', torch.zeros((), dtype=torch.long))
        self.previous = None if lag_owner is None else nn.ModuleDict(
            {s: frozen_copy(getattr(lag_owner, s)) for s in dict.fromkeys(self.pairs.values())})
        if lag_owner is not None:
            lag_owner.register_load_state_dict_pre_hook(self.fill_missing_previous)

    def next_momentum(self) -> float:
        """``m`` of the next update."""
        m = self.momentum
        return m(int(self.updates) + 1) if callable(m) else m

    @torch.no_grad()
    def reset(self) -> None:
        """Restart the schedule (counters to zero)."""
        self.steps.zero_()
        self.updates.zero_()

    @torch.no_grad()
    def copy_students(self, owner: nn.Module) -> None:
        """Every teacher becomes a copy of its student (counters unchanged)."""
        for teacher, student in self.pairs.items():
            ema_update_(getattr(owner, teacher), getattr(owner, student), 0.0)

    @torch.no_grad()
    def step(self, owner: nn.Module) -> Optional[float]:
        """One training step of ``owner``: update if due; return the momentum used, if any."""
        done = int(self.steps)
        self.steps += 1
        momentum = None
        if done >= self.first and (done - self.first) % self.interval == 0:
            momentum = self.next_momentum()
            for teacher, student in self.pairs.items():
                source = (getattr(owner, student) if self.previous is None else
                          self.previous[student])
                ema_update_(getattr(owner, teacher), source, momentum)
            self.updates += 1
        for student, previous in (self.previous or {}).items():
            for p, q in zip(previous.parameters(), getattr(owner, student).parameters()):
                p.copy_(q)
        return momentum

    def fill_missing_previous(self, owner: nn.Module, state_dict: dict, prefix: str,
                              *args) -> None:
        """Load pre-hook of the owner: where ``state_dict`` has a student but not its copy
        in ``previous``, the copy starts as that student."""
        name = next(n for n, child in owner.named_children() if child is self)
        filled = []
        for student in self.previous:
            source, target = f'{prefix}{student}.', f'{prefix}{name}.previous.{student}.'
            for key in [k for k in state_dict if k.startswith(source)]:
                if target + key[len(source):] not in state_dict:
                    state_dict[target + key[len(source):]] = state_dict[key]
                    filled.append(key)
        if filled:
            print_log(f'{prefix}{name}.previous is not in the checkpoint (written before it '
                      f'existed): it starts as the students {sorted(self.previous)}, so the '
                      f'first update after loading follows the current students.',
                      logger='current', level=logging.WARNING)

    def extra_repr(self) -> str:
        lag = '' if self.previous is None else ', lagged'
        return f'pairs={self.pairs}, interval={self.interval}, first={self.first}{lag}'


def update_teachers(model: nn.Module) -> Dict[str, float]:
    """Step every :class:`EMATeacher` in ``model`` whose owner trains and is teaching.

    An owner in eval mode is frozen (e.g. a trained head inside
    :class:`FrozenCodeBackbone`); an owner pauses its teachers with a
    ``teaching`` attribute that is false (CAUSE's probe stage, PriMaPs-EM's
    warm-up). Returns the momentum of each update made, keyed by the
    teacher's module name.
    """
    used = {}
    for owner_name, owner in model.named_modules():
        if not owner.training or not getattr(owner, 'teaching', True):
            continue
        for name, child in owner.named_children():
            if isinstance(child, EMATeacher):
                momentum = child.step(owner)
                if momentum is not None:
                    used[f'{owner_name}.{name}'.lstrip('.')] = momentum
    return used
