# CAUSE-TR head (docs/methods/cause.md), the same in steps 2 and 3: CAUSE-MLP's settings plus a
# decoder whose positional queries fix the number of patches. Rule for every backbone: a leaf
# sets num_queries = (train_crop_size / patch)² (1600 at 320 for /8, 529 at 322 for /14, 400 at
# 320 for /16).
_base_ = ['./cause_mlp.py']
model = dict(decode_head=dict(type='CauseTRHead'))
