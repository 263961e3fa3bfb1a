"""tools/train.py on a folder of unlabelled images (no label file anywhere), then tools/infer.py."""
import cv2
import pytest
import torch

from ..image_folder_toys import NUM_CLUSTERS, REPO, load_tool, write_images, write_tiny_config

train_tool = load_tool('train')
infer_tool = load_tool('infer')
SIZES = [(40, 48), (36, 50), (48, 40), (32, 64), (40, 40), (50, 36)]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('folder_training')
    write_images(root / 'photos', SIZES[:4], seed=5, suffix='.jpg')
    write_images(root / 'photos' / 'more', SIZES[4:], seed=6)
    cfg = write_tiny_config(root, root / 'photos')
    runner = train_tool.main([str(cfg), '--work-dir', str(root / 'work'), '--cfg-options',
                              'experiment_name=folder'])
    return dict(root=root, cfg=cfg, runner=runner)


def probe(path):
    state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
    return state['decode_head.cluster_probe.prototypes']


def test_cluster_probe_trains_on_a_folder_without_labels(trained):
    work = trained['root'] / 'work'
    assert trained['runner'].iter == 4
    assert not list(trained['root'].rglob('*ann*')) and trained['runner'].val_loop is None
    assert trained['runner'].train_dataloader.dataset.metainfo.get('classes') is None
    assert not torch.equal(probe(work / 'iter_2.pth'), probe(work / 'iter_4.pth'))
    assert 'uss_matching' not in torch.load(work / 'iter_4.pth', weights_only=False)['meta']


def test_the_trained_checkpoint_segments_the_folder(trained, tmp_path):
    assert infer_tool.main([str(trained['cfg']), str(trained['root'] / 'work' / 'iter_4.pth'),
                            str(trained['root'] / 'photos'), '--out', str(tmp_path)]) == 0
    names = ['img0', 'img1', 'img2', 'img3', 'more/img0', 'more/img1']
    for name, (h, w) in zip(names, SIZES, strict=True):
        labels = cv2.imread(str(tmp_path / 'labels' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        assert labels.shape == (h, w) and labels.max() < NUM_CLUSTERS
        assert cv2.imread(str(tmp_path / 'overlays' / f'{name}.jpg')).shape == (h, w, 3)


def test_worked_example_config_trains_on_the_folder_and_stores_the_matching(tmp_path):
    """configs/baseline/baseline_vit-tiny-p4_100i_image-folder-96.py (docs/own_images.md §5),
    2 iterations."""
    from mmuss.datasets.synthetic_textures import generate_synthetic_textures
    data = tmp_path / 'data'
    generate_synthetic_textures(str(data), num_train=8, num_val=3, size=32, seed=4)
    work = tmp_path / 'work'
    train_tool.main([
        str(REPO / 'configs/baseline/baseline_vit-tiny-p4_100i_image-folder-96.py'),
        '--work-dir', str(work),
        '--cfg-options', f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}', 'train_dataloader.batch_size=4',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'custom_hooks.0.num_batches=1', 'model.backbone.arch.num_layers=1',
        'experiment_name=worked_example', 'visualizer.name=worked_example'])
    record = torch.load(work / 'iter_2.pth', weights_only=False)['meta']['uss_matching']
    assert record['iter'] == 2 and sorted(record['cluster_to_class']) == list(range(6))
    assert record['classes'] == ['grass', 'sky', 'brick', 'sand', 'water', 'stone']


def test_primaps_em_trains_on_a_folder_without_labels(trained, tmp_path):
    """PriMaPs-EM with online mask proposals: warm-up, then EM, on the unlabelled folder."""
    cfg = tmp_path / 'primaps_folder.py'
    cfg.write_text('\n'.join([
        f'_base_ = [{str(trained["cfg"])!r}]',
        "model = dict(type='FrozenBackboneSegmentor',",
        "             decode_head=dict(_delete_=True, type='PrimapsEMHead', in_channels=32,",
        f'                              num_classes={NUM_CLUSTERS}, linear_probe=False,',
        "                              proposer=dict(type='PrimapsProposer')))",
        "train_pipeline = [dict(type='LoadImageFromFile'),",
        "                  dict(type='RandomResize', scale=(512, 32), ratio_range=(1.0, 1.5),",
        '                       keep_ratio=True),',
        "                  dict(type='RandomCrop', crop_size=(32, 32)),",
        "                  dict(type='NormalisedPhotometricView', key='img_student',",
        "                       brightness=0.1, contrast=0.1, saturation=0, hue=0),",
        "                  dict(type='PackMultiViewSegInputs')]",
        'train_dataloader = dict(dataset=dict(pipeline=train_pipeline))',
        "custom_hooks = [dict(type='PrototypeInitHook', method='pca', num_batches=1),",
        "                dict(type='PrimapsEMHook', warmup_iters=2, interval=1),",
        "                dict(type='ClusterMatchingHook')]",
    ]) + '\n')
    work = tmp_path / 'work'
    runner = train_tool.main([str(cfg), '--work-dir', str(work), '--cfg-options',
                              'experiment_name=primaps_folder'])
    head = runner.model.decode_head
    assert runner.iter == 4 and bool(head.em_active)
    assert infer_tool.main([str(cfg), str(work / 'iter_4.pth'),
                            str(trained['root'] / 'photos' / 'more'), '--out',
                            str(tmp_path / 'out')]) == 0
    labels = cv2.imread(str(tmp_path / 'out' / 'labels' / 'img0.png'), cv2.IMREAD_UNCHANGED)
    assert labels.shape == SIZES[4] and labels.max() < NUM_CLUSTERS


def test_stego_trains_on_a_folder_with_knn_partners(trained, tmp_path):
    """STEGO: KNN table of the folder by tools/precompute_knns.py, then training on it."""
    knn_file = tmp_path / 'nns.npz'
    cfg = tmp_path / 'stego_folder.py'
    cfg.write_text('\n'.join([
        f'_base_ = [{str(trained["cfg"])!r}]',
        "model = dict(type='FrozenBackboneSegmentor',",
        "             decode_head=dict(_delete_=True, type='StegoHead', in_channels=32,",
        f'                              channels=8, num_classes={NUM_CLUSTERS},',
        '                              linear_probe=False,',
        "                              loss_corr=dict(type='StegoCorrelationLoss',",
        '                                             feature_samples=3)))',
        'train_dataloader = dict(dataset=dict(',
        f"    _delete_=True, type='KNNPairDataset', knn_file={str(knn_file)!r}, num_neighbors=2,",
        "    dataset={{_base_.train_dataloader.dataset}}))",
    ]) + '\n')
    knn_tool = load_tool('precompute_knns')
    assert knn_tool.main([str(cfg), '--out', str(knn_file), '--topk', '3', '--batch-size', '2',
                          '--num-workers', '0']) == str(knn_file)
    runner = train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                              'experiment_name=stego_folder'])
    assert runner.iter == 4
    assert 'loss_corr' in ' '.join(runner.message_hub.log_scalars)


def test_hp_trains_on_a_folder_without_labels(trained, tmp_path):
    """HP: hidden positives from a reference pool of the folder's own images."""
    cfg = tmp_path / 'hp_folder.py'
    cfg.write_text('\n'.join([
        f'_base_ = [{str(trained["cfg"])!r}]',
        "model = dict(type='FrozenBackboneSegmentor',",
        '             backbone=dict(out_attn=True),',
        "             decode_head=dict(_delete_=True, type='HPHead', in_channels=32, channels=8,",
        f'                              num_classes={NUM_CLUSTERS}, linear_probe=False,',
        '                              pool_size=4, sigma=8.0,',
        "                              loss_hp=dict(type='HiddenPositiveLoss', chunk_size=64),",
        "                              loss_consistency=dict(type='PatchConsistencyLoss')))",
        "train_pipeline = [dict(type='LoadImageFromFile'),",
        "                  dict(type='RandomResize', scale=(512, 32), ratio_range=(1.0, 1.5),",
        '                       keep_ratio=True),',
        "                  dict(type='RandomCrop', crop_size=(32, 32)),",
        "                  dict(type='NormalisedPhotometricView'),",
        "                  dict(type='PackMultiViewSegInputs')]",
        'train_dataloader = dict(dataset=dict(pipeline=train_pipeline))',
        "custom_hooks = [dict(type='HPLambdaHook', warmup=1),",
        "                dict(type='ReferencePoolHook', batch_size=4, renew_interval=2)]",
    ]) + '\n')
    runner = train_tool.main([str(cfg), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                              'experiment_name=hp_folder'])
    assert runner.iter == 4
    assert any('loss_hp' in key for key in runner.message_hub.log_scalars)
