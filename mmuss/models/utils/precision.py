"""Loss-critical computation in float32 under mixed precision (autocast)."""
import functools
import inspect
from contextlib import ExitStack
from typing import Any, Callable, Collection, Optional, TypeVar

import torch
from torch import Tensor

F = TypeVar('F', bound=Callable[..., Any])

HALF_DTYPES = (torch.float16, torch.bfloat16)
AUTOCAST_DEVICES = ('cpu', 'cuda')


def autocast_enabled(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (``'cpu'`` or ``'cuda'``), on any torch >= 2.0."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no device type
        return (torch.is_autocast_cpu_enabled() if device_type == 'cpu'
                else torch.is_autocast_enabled())


def to_float32(value: Any) -> Any:
    """``value`` with every float16/bfloat16 tensor (also inside lists and tuples) as float32.

    float32 and float64 tensors, integer tensors and other objects are returned as they are.
    """
    if isinstance(value, Tensor):
        return value.float() if value.dtype in HALF_DTYPES else value
    if type(value) in (list, tuple):
        return type(value)(to_float32(v) for v in value)
    return value


def float32_precision(fn: Optional[F] = None, *, keep: Collection[str] = ()) -> Any:
    """Decorator: run ``fn`` in float32 whatever autocast or the caller's dtypes are.

    Inside ``fn`` autocast is off (on every device where it was on) and its
    float16/bfloat16 tensor arguments arrive as float32. Under autocast, matrix
    products run in half precision: fp16 overflows beyond 65504, bf16 keeps 8
    bits of mantissa, and ops such as ``index_add_`` refuse mixed dtypes. A
    loss's logsumexp, softmax, cross-entropy, cosine similarities and
    argmax-based labels must see float32 operands: this is the one place mmuss
    switches them to float32, at the entry of each loss (and of the probe
    logits that feed the Hungarian matching). Gradients flow back through the
    casts in the caller's dtype.

    Args:
        fn: The function or method.
        keep: Names of arguments passed unconverted (e.g. a large float16
            bank that ``fn`` converts chunk by chunk).
    """
    if fn is None:
        return functools.partial(float32_precision, keep=keep)
    signature = inspect.signature(fn) if keep else None

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if signature is None:
            args, kwargs = to_float32(args), {k: to_float32(v) for k, v in kwargs.items()}
        else:
            bound = signature.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if name not in keep:
                    bound.arguments[name] = to_float32(value)
            args, kwargs = bound.args, bound.kwargs
        with ExitStack() as stack:
            for device_type in AUTOCAST_DEVICES:
                if autocast_enabled(device_type):
                    stack.enter_context(torch.autocast(device_type, enabled=False))
            return fn(*args, **kwargs)

    return wrapper
