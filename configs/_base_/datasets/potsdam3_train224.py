# Potsdam-3 training as STEGO and HP do: the uncropped tiles (Potsdam is never five-cropped),
# shorter side -> 224 (PIL nearest) and a 224 centre crop (docs/methods/stego.md#quirks Q10).
# Evaluation stays at 320 (potsdam3.py).
_base_ = ['./potsdam3.py']
train_crop_size = 224
train_pipeline = [*_base_.loading, _base_.label_map,
                  *[dict(step, **{k: train_crop_size for k in ('size', 'crop_size') if k in step})
                    for step in _base_.train_geometry]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
