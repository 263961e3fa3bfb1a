"""The label value every mmuss component treats as "no class"."""

IGNORE_INDEX = 255
"""Ignored label: unlabelled pixels, pixels outside every PriMaPs mask, unmatched clusters.

mmseg's ``SegDataPreProcessor(seg_pad_val=255)`` and ``ignore_index=255`` use the same value.
"""
