default_scope = 'mmseg'
custom_imports = dict(imports=['mmuss'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
# No fixed `name`: mmengine then names it after the run; a fixed one makes every later run in
# the same process reuse the first run's visualizer and write into that run's folder.
visualizer = dict(type='USSLocalVisualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
