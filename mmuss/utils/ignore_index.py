"""The label every mmuss component ignores: unlabelled pixels, pixels outside every PriMaPs
mask, unmatched clusters (mmseg's ``seg_pad_val``/``ignore_index`` convention)."""

IGNORE_INDEX = 255
