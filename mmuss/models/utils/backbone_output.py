"""The container every mmuss backbone returns and every mmuss head reads."""
from typing import Any, Iterable, Optional

from torch import Tensor


class BackboneOutput(tuple):
    """A tuple of ``B×C×h×w`` feature maps that also carries optional extras.

    It *is* a tuple, so plain mmseg decode heads (which index their inputs
    with ``in_index``) work on it unchanged. mmuss heads additionally read the
    extras a backbone was configured to produce:

    - ``attn``: last-block pre-softmax attention logits, ``B×heads×N×N`` over
      the patch tokens (CLS/register tokens removed), or ``None``.
    - ``qkv``: last-block ``(q, k, v)`` patch-token features, each
      ``B×heads×N×d``, or ``None``.
    - ``cls_token``: ``B×C`` class token after the final norm, or ``None``.
    - ``cls_attn``: last-block attention of the CLS query to the patch tokens,
      ``B×heads×h×w`` (softmax over all tokens), or ``None``.

    Args:
        feats: The feature maps, lowest index first.
        **extras: Any of the attributes above.
    """

    EXTRAS = ('attn', 'qkv', 'cls_token', 'cls_attn')

    def __new__(cls, feats: Iterable[Tensor], **extras: Any) -> 'BackboneOutput':
        unknown = set(extras) - set(cls.EXTRAS)
        if unknown:
            raise KeyError(f'BackboneOutput got unknown extras {sorted(unknown)}; '
                           f'allowed: {list(cls.EXTRAS)}')
        obj = super().__new__(cls, feats)
        for name in cls.EXTRAS:
            setattr(obj, name, extras.get(name))
        return obj

    @classmethod
    def of(cls, feats: Iterable[Tensor], extras_from: Any = None,
           **extras: Any) -> 'BackboneOutput':
        """``feats`` with the extras of ``extras_from`` (default ``feats``; tuples have none)
        updated with ``extras``: the one place any output becomes a :class:`BackboneOutput`."""
        source = feats if extras_from is None else extras_from
        merged = {k: getattr(source, k, None) for k in cls.EXTRAS}
        merged.update(extras)
        return cls(feats, **merged)

    @property
    def last(self) -> Tensor:
        """The last (deepest) feature map."""
        return self[-1]

    def get(self, name: str) -> Optional[Any]:
        """Return an extra by name, raising a clear error if it is missing."""
        value = getattr(self, name, None)
        if value is None:
            raise KeyError(
                f'This head needs the backbone output {name!r}, but the backbone '
                f'was not configured to produce it (see the backbone\'s '
                f'`out_attn`/`out_qkv`/`out_cls_token`/`out_cls_attn` options).')
        return value
