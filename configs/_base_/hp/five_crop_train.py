# HP's photometric view on five-crop datasets (Cityscapes-27, COCO-Stuff-27;
# docs/methods/hp.md#quirks Q10): ColorJitter(0.3, 0.3, 0.3, 0.1), RandomGrayscale(0.2), blur 5×5
# σ∈[0.1, 2] with p 0.5, applied to the normalised image and clamped to [0, 1] as HP does; batch 64.
# ./cityscapes27.py and ./cocostuff27.py append it to the 224-px five-crop training pipeline.
hp_photometric_view = dict(
    type='NormalisedPhotometricView', brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1,
    grayscale_prob=0.2, blur_prob=0.5, blur_kernel=5, blur_sigma=(0.1, 2.0))
hp_loader = dict(batch_size=64, drop_last=True,
                 sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
