"""mmengine's CheckpointHook with atomic saves and no non-finite checkpoints."""
import errno
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from mmuss.utils.checkpoint import last_checkpoint_of
from mmuss.utils.fileio import atomic_write
from mmuss.utils.model_wrapper import unwrap_model


def non_finite_state(model: torch.nn.Module) -> List[str]:
    """Names of floating-point parameters/buffers of ``model`` holding NaN or ±inf."""
    return [name for name, value in model.state_dict().items()
            if torch.is_tensor(value) and value.is_floating_point()
            and not bool(torch.isfinite(value).all())]


def failed_save_error(err: OSError, final: str, previous: Optional[str]) -> OSError:
    """The error of a save of ``final`` that failed with ``err``, naming what is left intact."""
    kept = (f'the previous checkpoint {previous} is intact' if previous and osp.isfile(previous)
            else 'no intact earlier checkpoint is known')
    if err.errno == errno.ENOSPC:
        return OSError(err.errno, f'No space left on {osp.dirname(final) or "."}: {kept}; '
                                  f'{osp.basename(final)} was not saved (its partial file is '
                                  f'removed). Free space, then continue with --resume')
    return OSError(err.errno, f'Saving {final} failed ({err.strerror or err}): {kept}; the '
                              f'partial file is removed')


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same options) whose saves can be killed at any time.

    mmengine removes the oldest checkpoint (``max_keep_ckpts``) or the
    previous best (``save_best``) before it writes the new file in place, so
    a kill during a save can leave no intact checkpoint. Here each file is
    written by :func:`mmuss.utils.fileio.atomic_write` (a temporary file
    renamed over ``<name>`` only when complete), and old files are removed
    only after that. A model whose parameters or buffers are non-finite is
    never saved (``FloatingPointError`` naming the tensors).
    Non-local backends keep mmengine's behaviour.

    tools/train.py uses it wherever a config asks for ``CheckpointHook``.
    """

    _atomic_active = False

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        with self._atomic_saves(runner):
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._atomic_saves(runner):
            super()._save_best_checkpoint(runner, metrics)

    @contextmanager
    def _atomic_saves(self, runner) -> Iterator[None]:
        bad = non_finite_state(unwrap_model(runner.model))
        if bad:
            raise FloatingPointError(
                f'Not saving a checkpoint at iteration {runner.iter}: non-finite values in '
                f'{bad[:10]}{" ..." if len(bad) > 10 else ""}. The previous checkpoints are '
                f'kept.')
        if not isinstance(self.file_backend, LocalBackend) or self._atomic_active:
            yield  # a best save re-enters through _save_checkpoint_with_step
            return
        save, remove = runner.save_checkpoint, self.file_backend.remove
        written: List[str] = []
        pending: List[str] = []
        previous = self._previous_checkpoint(runner)

        def atomic_save(out_dir, filename, *args, **kwargs):
            final = osp.join(out_dir, filename)
            try:
                if is_main_process():  # the runner writes on the main process only
                    atomic_write(final, lambda tmp: save(out_dir, osp.basename(tmp), *args,
                                                         **kwargs))
                else:
                    save(out_dir, filename, *args, **kwargs)
            except OSError as err:
                self.last_ckpt = previous
                raise failed_save_error(err, final, previous) from err
            written.append(osp.abspath(final))

        runner.save_checkpoint = atomic_save
        self.file_backend.remove = pending.append
        self._atomic_active = True
        try:
            yield
        finally:
            del runner.save_checkpoint, self.file_backend.remove
            self._atomic_active = False
        for path in pending:
            if osp.abspath(path) not in written:
                remove(path)

    def _previous_checkpoint(self, runner) -> Optional[str]:
        """The last checkpoint saved (this run's, else the one ``last_checkpoint`` names)."""
        last = getattr(self, 'last_ckpt', None)
        return last if last is not None else last_checkpoint_of(runner.work_dir)
