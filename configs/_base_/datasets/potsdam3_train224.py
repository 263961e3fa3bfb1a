# Potsdam-3 training as STEGO and HP do: the uncropped tiles (Potsdam is never five-cropped),
# shorter side -> 224 (PIL nearest) and a 224 centre crop (docs/methods/stego.md#quirks Q10).
# Evaluation stays at 320 (potsdam3.py).
_base_ = ['./potsdam3.py']
train_crop_size = 224
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='potsdam3', unmapped='error'),
    dict(type='ResizeShortSide', size=train_crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=train_crop_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
