"""Stop training at the first non-finite loss or gradient; refuse non-finite predictions."""
import functools
from typing import Dict, Iterable, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.structures import BaseDataElement, PixelData
from mmseg.registry import HOOKS

from mmuss.utils.model_wrapper import unwrap_model


def non_finite_terms(log_vars: Dict[str, torch.Tensor]) -> List[str]:
    """Names of the loss terms in ``log_vars`` that are NaN or ±inf."""
    return [name for name, value in log_vars.items()
            if not bool(torch.isfinite(torch.as_tensor(value)).all())]


def non_finite_grads(named_params: Iterable) -> List[str]:
    """Names of the parameters whose gradient holds NaN or ±inf (one sync when all finite)."""
    named = [(n, p.grad) for n, p in named_params if p.grad is not None]
    if not named:
        return []
    norms = torch.stack([g.detach().float().norm() for _, g in named])
    if bool(torch.isfinite(norms).all()):
        return []
    return [n for n, g in named if not bool(torch.isfinite(g).all())]


def non_finite_fields(sample: BaseDataElement) -> List[str]:
    """Float fields (tensors or ``PixelData``) of a data sample that hold NaN or ±inf."""
    bad = []
    for key, value in sample.items():
        data = value.data if isinstance(value, PixelData) else value
        if (isinstance(data, torch.Tensor) and data.is_floating_point()
                and not bool(torch.isfinite(data).all())):
            bad.append(key)
    return bad


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Fail loudly instead of training on, saving or scoring NaN/inf.

    - Training: the model's ``parse_losses`` is checked before the backward
      pass; the first non-finite loss term raises ``FloatingPointError``
      naming the iteration and the terms. Without AMP (whose loss scaler
      skips inf gradients by design), the optimiser wrapper's ``step`` first
      checks every gradient and names the parameters; an optimiser step that
      overflows (e.g. Adam at ``lr=1e38``) is reported with the learning
      rate. Raising before the
      checkpoint hook (lower priority) means no non-finite checkpoint is saved.
    - Validation/test: a prediction whose float fields (``seg_logits``,
      embeddings) are non-finite raises, naming the image, since its argmax
      would be scored as a valid map.

    tools/train.py and tools/test.py add this hook to every config.
    """

    priority = 'ABOVE_NORMAL'

    def before_train(self, runner) -> None:
        model = unwrap_model(runner.model)
        self._guard_losses(runner, model)
        wrappers = (runner.optim_wrapper.values()
                    if isinstance(runner.optim_wrapper, OptimWrapperDict) else
                    [runner.optim_wrapper])
        for wrapper in wrappers:
            self._guard_update(runner, model, wrapper,
                               check_grads=not isinstance(wrapper, AmpOptimWrapper))

    @staticmethod
    def _guard_losses(runner, model) -> None:
        parse_losses = model.parse_losses

        @functools.wraps(parse_losses)
        def checked(losses):
            loss, log_vars = parse_losses(losses)
            bad = non_finite_terms(log_vars)
            if bad:
                values = ', '.join(f'{k}={float(log_vars[k])}' for k in bad)
                raise FloatingPointError(
                    f'Non-finite loss at iteration {runner.iter + 1}: {values}. Training '
                    f'stopped before the update; no checkpoint was saved. Lower the learning '
                    f'rate or check the input data, then resume from the last checkpoint.')
            return loss, log_vars

        model.parse_losses = checked

    @staticmethod
    def _guard_update(runner, model, wrapper, check_grads: bool) -> None:
        step = wrapper.step

        @functools.wraps(step)
        def checked(**kwargs):
            bad = non_finite_grads(model.named_parameters()) if check_grads else []
            if bad:
                raise FloatingPointError(
                    f'Non-finite gradient at iteration {runner.iter + 1} in '
                    f'{bad[:10]}{" ..." if len(bad) > 10 else ""}. Training stopped before '
                    f'the update; no checkpoint was saved.')
            try:
                return step(**kwargs)
            except RuntimeError as err:
                if 'overflow' not in str(err):
                    raise
                rates = sorted({group['lr'] for group in wrapper.optimizer.param_groups})
                raise FloatingPointError(
                    f'Non-finite update at iteration {runner.iter + 1}: the optimizer step '
                    f'overflowed ({err}) at learning rate {", ".join(map(str, rates))}. '
                    f'Training stopped in the update; no checkpoint was saved. Lower the '
                    f'learning rate, then resume from the last checkpoint.') from None

        wrapper.step = checked

    def _check_outputs(self, outputs: Optional[list], data_batch: Optional[dict]) -> None:
        for sample in outputs or []:
            if not isinstance(sample, BaseDataElement):
                continue
            bad = non_finite_fields(sample)
            if bad:
                raise FloatingPointError(
                    f'Non-finite {bad} predicted for {sample.metainfo.get("img_path", "an image")}'
                    f': a metric computed from them would be meaningless. The checkpoint '
                    f'or the input holds NaN/inf.')

    def after_val_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                       outputs: Optional[list] = None) -> None:
        self._check_outputs(outputs, data_batch)

    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[list] = None) -> None:
        self._check_outputs(outputs, data_batch)
