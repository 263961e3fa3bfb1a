"""Run code without disturbing the global random streams of a training run."""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


@contextmanager
def preserved_rng_state() -> Iterator[None]:
    """Restore python's, numpy's and torch's (CPU and CUDA) global RNG states on exit.

    Hooks that draw outside the training step run inside it, so the training
    run's data and dropout draws do not depend on whether the hook ran (a
    resumed run skips some hooks).
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
