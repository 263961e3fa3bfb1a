"""float32_precision: half-precision arguments become float32, autocast is off inside."""
import torch

from mmuss.models.utils.precision import autocast_enabled, float32_precision


@float32_precision
def seen(x, items, scale=1.0, count=None):
    """What the body sees: dtypes, the autocast state and a matrix product's dtype."""
    return dict(x=x.dtype, items=[t.dtype for t in items], count=count.dtype,
                autocast=autocast_enabled('cpu'), product=(x @ x.T).dtype, scale=scale)


def test_half_arguments_arrive_as_float32_and_autocast_is_off():
    x = torch.ones(2, 2, dtype=torch.bfloat16)
    items = [torch.ones(1, dtype=torch.float16), torch.ones(1, dtype=torch.float64)]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert autocast_enabled('cpu') and (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == \
            torch.bfloat16
        got = seen(x, items, scale=2.0, count=torch.ones(1, dtype=torch.long))
        assert autocast_enabled('cpu')  # restored on exit
    assert got == dict(x=torch.float32, items=[torch.float32, torch.float64], count=torch.long,
                       autocast=False, product=torch.float32, scale=2.0)


def test_kept_arguments_pass_unconverted():

    @float32_precision(keep=('bank', ))
    def dtypes(code, bank=None):
        return code.dtype, bank.dtype

    half = torch.ones(1, dtype=torch.float16)
    assert dtypes(half, bank=half) == (torch.float32, torch.float16)
    assert dtypes(half, half) == (torch.float32, torch.float16)


def test_gradient_reaches_the_half_input_in_its_dtype():

    @float32_precision
    def total(x):
        assert x.dtype == torch.float32
        return (x * x).sum()

    x = torch.tensor([1.5, -2.0], dtype=torch.bfloat16, requires_grad=True)
    out = total(x)
    out.backward()
    assert out.dtype == torch.float32
    assert x.grad.dtype == torch.bfloat16 and x.grad.tolist() == [3.0, -4.0]
