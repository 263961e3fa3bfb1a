"""Run code without disturbing the global random streams of a training run."""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


@contextmanager
def preserved_rng_state() -> Iterator[None]:
    """Restore python's, numpy's and torch's (CPU and CUDA) global RNG states on exit.

    Hooks that draw samples outside the training step (prototype
    initialisation, reference pools) run inside it, so the data pipeline's
    draws and the model's dropout masks of the training run do not depend on
    whether the hook ran; a resumed run, which skips or repeats hooks
    differently, then stays identical to an uninterrupted one.
    """
    py_state, np_state = random.getstate(), np.random.get_state()
    cpu_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(cpu_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
