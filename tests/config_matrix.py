"""Run shipped configs end to end on fake datasets, as a user runs them (the config matrix).

:class:`Sandbox` is a folder holding the fake trees at the configs' default paths
(``data/...``, :mod:`fake_datasets`) and links to ``configs/`` and ``tools/``; every tool runs
in-process with the sandbox as the current directory, so default data roots, work dirs
(``work_dirs/<config>``) and artefact paths resolve there, as in a user's checkout.

:meth:`Sandbox.run` trains a config through ``tools/train.py``'s ``main`` and tests its last
checkpoint through ``tools/test.py``'s ``main``, adding only ``--cfg-options``:

- the input size through the documented keys (``crop_size``, ``train_crop_size``,
  ``num_queries``: 4 patches per side) and training batches of 2, without worker processes;
- a schedule of 2 training iterations (epoch-based loops: one epoch of 2 iterations, through
  mmengine's ``indices`` of the training set; PriMaPs-EM: EM from the start, HP: a λ ramp of
  one iteration) ending in one validation; capacities sized for a full dataset (HP's reference
  pool, CAUSE's concept bank, MaskContrast's K-means needs 20 val images: the fake VOC has them)
  and the CPU optimiser recipe of AMP configs (``optim_wrapper.type=OptimWrapper``, as the
  READMEs say for CPUs);
- random backbone weights (``Pretrained`` init configs dropped: nothing is downloaded).

An artefact a config reads is made first by the tool that makes it: STEGO/CAUSE crops by
``tools/dataset_converters/five_crop.py``, KNN tables by ``tools/precompute_knns.py``, PriMaPs
proposals by ``tools/precompute_primaps.py``, DINO saliency masks by
``tools/maskcontrast_dino_saliency.py``, and a ``work_dirs/<config>/...`` path (clusterbook,
step-2 work dir, SotA or pre-training checkpoint) by running that config.

Speed, without changing what runs: weight initialisers fill from a cached random buffer in one
pass (:class:`CheapInit`; ViT-B's 86M values would otherwise cost a second per build), yapf does
not pretty-print the dumped configs, checkpoints are written without CRC32 and serialised
straight into their file (:func:`direct_save`: the same bytes without mmengine's in-memory
copy, 1.2 GB for a ViT-L/16 checkpoint with its frozen backbone), zip checkpoints are
memory-mapped on load (:func:`mapped_load`), torch uses the CI machine's 2 cores (1 per worker
under pytest-xdist; the suite's default is 1), objects that survive a run are moved out of the
garbage collector's scans (mmengine calls ``gc.collect`` whenever it builds a dataset), and the
sandbox lives in memory when ``/dev/shm`` has room (:func:`scratch_dir`). ``make test`` runs
the matrix in 2 pytest-xdist workers, each with its own sandbox; :func:`dependency_groups`
keeps a chain of configs (CAUSE steps 1-3, a SotA run and its PriMaPs-EM refinement) in one.
"""
import contextlib
import functools
import gc
import importlib.util
import math
import os
import re
import shutil
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict, FrozenSet, Iterator, List, Optional

import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend, get_file_backend

from .fake_datasets import write_fake_datasets

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.relative_to(REPO) for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
#: Patches per side of the reduced inputs.
PATCHES = 4
#: The dataset config each crop set is cut from (docs/datasets.md, configs/_base_/datasets/).
CROP_SOURCES = {'cocostuff27': 'configs/_base_/datasets/cocostuff27.py',
                'cityscapes': 'configs/_base_/datasets/cityscapes27.py',
                'pascalvoc': 'configs/_base_/datasets/pascal_voc.py'}
CROP_SET = re.compile(r'cropped/(?P<name>\w+?)_(?:five_crop_(?P<ratio>[0-9.]+)|super_crop_0)'
                      r'/img/(?P<split>\w+)')
PREVIOUS_RUN = re.compile(r'^work_dirs/(?P<stem>[^/]+)(?:/(?P<rest>.*))?$')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
TOOLS: Dict[str, ModuleType] = {}  # tools/<name>.py modules, imported once per session


def load_tool(path: str) -> ModuleType:
    """Import a tool script (``tools/...py``) as a module."""
    spec = importlib.util.spec_from_file_location(
        'matrix_' + path.replace('/', '_')[:-3], REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def scratch_dir(make_tmp: Callable[[str], Path], name: str) -> Iterator[Path]:
    """A folder in memory (``/dev/shm``, removed afterwards) when 8 GiB are free there, else
    ``make_tmp(name)``: checkpoints of ViT-B runs (330 MB each) then cost no disk waits."""
    shm = Path('/dev/shm')
    if not (shm.is_dir() and shutil.disk_usage(shm).free > 8 << 30):
        yield make_tmp(name)
        return
    root = Path(tempfile.mkdtemp(prefix=f'mmuss_{name}_', dir=shm))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def working_dir(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


class CheapInit:
    """``torch.nn.init`` fillers that copy from a cached random buffer instead of drawing.

    The values keep each initialiser's distribution (normal, truncated normal, uniform with
    the same bounds) but repeat across tensors: features stay random-looking, at memcpy speed.
    """

    NAMES = ('normal_', 'trunc_normal_', 'uniform_', 'kaiming_uniform_', 'kaiming_normal_',
             'xavier_uniform_', 'xavier_normal_')

    def __init__(self, size: int = 1 << 22, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.normal = torch.randn(size, generator=gen)
        self.uniform = torch.rand(size, generator=gen) - 0.5  # centred: U(a, b) needs no shift
        self.normal_bound = float(self.normal.abs().max())
        self.offset = 0

    def fill(self, tensor: torch.Tensor, source: torch.Tensor, scale: float,
             shift: float) -> torch.Tensor:
        """``tensor = source[offset:] * scale + shift``, wrapping around the buffer, in one
        pass over ``tensor`` (its first touch: a ViT-L's 1.2 GB are written twice per build)."""
        with torch.no_grad():
            flat = tensor.view(-1)
            done = 0
            while done < flat.numel():
                start = self.offset % source.numel()
                count = min(flat.numel() - done, source.numel() - start)
                out, values = flat[done:done + count], source[start:start + count]
                if shift:
                    torch.add(torch.tensor(shift), values, alpha=scale, out=out)
                else:
                    torch.mul(values, scale, out=out)
                done += count
                self.offset = start + count + 7919
        return tensor

    def normal_(self, tensor, mean=0., std=1., generator=None):
        return self.fill(tensor, self.normal, std, mean)

    def trunc_normal_(self, tensor, mean=0., std=1., a=-2., b=2., generator=None):
        self.fill(tensor, self.normal, std, mean)
        if a <= mean - std * self.normal_bound and mean + std * self.normal_bound <= b:
            return tensor  # nothing to clip (timm's std=.02 within ±2)
        with torch.no_grad():
            return tensor.clamp_(a, b)

    def uniform_(self, tensor, a=0., b=1., generator=None):
        return self.fill(tensor, self.uniform, b - a, (a + b) / 2)

    def kaiming_uniform_(self, tensor, a=0, mode='fan_in', nonlinearity='leaky_relu',
                         generator=None):
        bound = math.sqrt(3.0) * kaiming_std(tensor, a, mode, nonlinearity)
        return self.uniform_(tensor, -bound, bound)

    def kaiming_normal_(self, tensor, a=0, mode='fan_in', nonlinearity='leaky_relu',
                        generator=None):
        return self.normal_(tensor, 0., kaiming_std(tensor, a, mode, nonlinearity))

    def xavier_uniform_(self, tensor, gain=1., generator=None):
        bound = math.sqrt(3.0) * xavier_std(tensor, gain)
        return self.uniform_(tensor, -bound, bound)

    def xavier_normal_(self, tensor, gain=1., generator=None):
        return self.normal_(tensor, 0., xavier_std(tensor, gain))

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        """Swap :data:`NAMES` of ``torch.nn.init`` for the cheap fills."""
        init = torch.nn.init
        saved = {name: getattr(init, name) for name in self.NAMES}
        for name in self.NAMES:
            setattr(init, name, self.fill_or_fallback(getattr(self, name), saved[name]))
        try:
            yield
        finally:
            for name, function in saved.items():
                setattr(init, name, function)

    @staticmethod
    def fill_or_fallback(cheap: Callable, original: Callable) -> Callable:
        """``cheap`` for contiguous tensors, ``original`` otherwise."""
        def init(tensor, *args, **kwargs):
            if tensor.is_contiguous() and tensor.device.type == 'cpu':
                return cheap(tensor, *args, **kwargs)
            return original(tensor, *args, **kwargs)
        return init


def kaiming_std(tensor, a, mode, nonlinearity) -> float:
    fan = torch.nn.init._calculate_correct_fan(tensor, mode)
    return torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)


def xavier_std(tensor, gain) -> float:
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def direct_save(original: Callable) -> Callable:
    """mmengine's ``save_checkpoint`` serialising into the open local file (the same bytes;
    mmengine serialises into memory and copies that into the file: 3 copies of a ViT-L)."""
    def save_checkpoint(checkpoint: dict, filename: str, file_client_args=None,
                        backend_args=None) -> None:
        if (file_client_args or backend_args
                or not isinstance(get_file_backend(filename), LocalBackend)):
            return original(checkpoint, filename, file_client_args, backend_args)
        os.makedirs(os.path.dirname(filename) or '.', exist_ok=True)
        with open(filename, 'wb') as f:
            torch.save(checkpoint, f)
    return save_checkpoint


def mapped_load(original: Callable) -> Callable:
    """``torch.load`` memory-mapping a zip-format file: its tensors are read where they are
    used (a checkpoint in ``/dev/shm`` is then never copied whole)."""
    def load(f, *args, mmap=None, **kwargs):
        if isinstance(f, (str, Path)) and os.path.isfile(f) and zipfile.is_zipfile(f):
            mmap = True
        return original(f, *args, mmap=mmap, **kwargs)
    return load


@contextlib.contextmanager
def fast_runs(cheap_init: CheapInit) -> Iterator[None]:
    """The speed-ups of the module docstring, for the duration of one tool call."""
    import mmengine.config.config as mmengine_config
    import mmengine.runner.runner as mmengine_runner
    import torch.utils.serialization as serialization
    format_code = mmengine_config.FormatCode
    crc = serialization.config.save.compute_crc32
    save, load = mmengine_runner.save_checkpoint, torch.load
    threads = torch.get_num_threads()
    mmengine_config.FormatCode = lambda text, **kwargs: (text, None)
    serialization.config.save.compute_crc32 = False
    mmengine_runner.save_checkpoint = direct_save(save)
    torch.load = mapped_load(load)
    torch.set_num_threads(torch_threads())
    gc.collect()
    gc.freeze()
    try:
        with cheap_init.patched():
            yield
    finally:
        mmengine_config.FormatCode = format_code
        serialization.config.save.compute_crc32 = crc
        mmengine_runner.save_checkpoint, torch.load = save, load
        torch.set_num_threads(threads)


def walk(node, path: str = '') -> Iterator[tuple]:
    """``(dotted path, dict)`` of every dict below ``node`` (lists are not entered)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f'{path}.{key}' if path else key)


def unwrap(dataset: dict) -> dict:
    while dataset.get('type') == 'KNNPairDataset':
        dataset = dataset['dataset']
    return dataset


def patch_size(cfg: Config) -> int:
    """The backbone's patch, which the model pads to (the dilated ResNet states its output
    stride 8 as the preprocessor's ``size_divisor``)."""
    backbone = cfg.model.backbone
    backbone = backbone.get('backbone', backbone)  # FrozenCodeBackbone
    return cfg.model.data_preprocessor.get('size_divisor') or backbone['patch_size']


def size_options(cfg: Config) -> List[str]:
    """Input size of :data:`PATCHES` patches per side through the documented keys (CAUSE:
    two grid cells per side, its modularity needs two sampled patches per image)."""
    grid = max((d.get('grid_stride', 4) for _, d in walk(cfg.model)  # CAUSE heads' default
                if str(d.get('type', '')).startswith('Cause')), default=0)
    patches = max(PATCHES, 2 * grid)
    side = patches * patch_size(cfg)
    options = [f'{key}={side}' for key in ('crop_size', 'train_crop_size') if key in cfg]
    if 'num_queries' in cfg:
        options.append(f'num_queries={patches ** 2}')
    if patches != PATCHES and 'proposal_root' in cfg:  # PriMaPs masks shared at another size
        options.append(f'proposal_root={cfg.proposal_root}_{side}px')
    return options


def random_weights(cfg: Config, where: str = 'model') -> List[str]:
    """Drop every ``Pretrained`` init config of a download or a missing local file (weights of
    a previous run under ``work_dirs/`` stay: they are that run's artefact)."""
    node = cfg
    for key in where.split('.'):
        node = node.get(key) or {}
    return [f'{where}.{path}=None' for path, d in walk(node)
            if path.endswith('init_cfg') and d.get('type') == 'Pretrained'
            and not str(d.get('checkpoint', '')).startswith('work_dirs/')]


def loader_options(cfg: Config) -> List[str]:
    """Training batches of 2, evaluation on 2 images (MaskContrast's K-means on all 20 VOC ones:
    it forms 20 clusters), no worker processes."""
    options = ['train_dataloader.batch_size=2'] if cfg.get('train_dataloader') else []
    if cfg.get('val_evaluator') and 'MaskKMeansMetric' not in str(cfg.val_evaluator):
        options += [f'{key}.dataset.indices=2' for key in LOADERS[1:] if cfg.get(key)]
    return options + [f'{key}.{name}=False' if name == 'persistent_workers' else f'{key}.{name}=0'
                      for key in LOADERS if cfg.get(key)
                      for name in ('num_workers', 'persistent_workers')]


def schedule_options(cfg: Config) -> List[str]:
    """Two training iterations ending in one validation (see the module docstring)."""
    options = []
    if cfg.get('warmup'):  # HP's λ ramp must end within the run
        options.append('warmup=1')
    if cfg.get('warmup_epochs'):  # PriMaPs-EM: straight to EM (the warm-up trains the probe)
        options.append('warmup_epochs=0')
    if cfg.train_dataloader.dataset.get('type') != 'KNNPairDataset':  # its table: every crop
        options.append('train_dataloader.dataset.indices=4')  # also bounds the init hooks' reads
    if 'Iter' in cfg.train_cfg.type:
        return options + ['train_cfg.max_iters=2', 'train_cfg.val_interval=2']
    return options + ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1']


def method_options(cfg: Config) -> List[str]:
    options = []
    if (cfg.get('optim_wrapper') or {}).get('type') == 'AmpOptimWrapper':
        options += ['optim_wrapper.type=OptimWrapper', 'optim_wrapper.loss_scale=None']
    head = cfg.model.get('decode_head', {})
    if 'pool_size' in head:  # HP: a reference pool within the 4 training images
        options.append('model.decode_head.pool_size=2')
    if 'bank_size' in head:  # CAUSE step 2: 2 concept-bank slots, not 100 (1.6 GB)
        options.append('model.decode_head.bank_size=2')
    return options


def reduced_options(cfg: Config) -> List[str]:
    """Every ``--cfg-options`` the matrix adds to a shipped config (module docstring)."""
    return (size_options(cfg) + loader_options(cfg) + schedule_options(cfg) + method_options(cfg)
            + random_weights(cfg))


@dataclass
class Outcome:
    """A config's matrix run: work dir, last checkpoint, metrics, own time or first error."""
    config: str
    work_dir: Optional[Path] = None
    checkpoint: Optional[str] = None
    metrics: Optional[dict] = None
    seconds: float = 0.
    cpu_seconds: float = 0.
    error: Optional[str] = None
    steps: List[str] = field(default_factory=list)


@functools.lru_cache(maxsize=None)
def config_readers(checkpoints: bool = True) -> Dict[str, FrozenSet[str]]:
    """Config stem -> the configs that read its work dir (a later run's input; with
    ``checkpoints``, only those reading more than its clusterbook)."""
    texts = {str(c): (REPO / c).read_text() for c in CONFIGS}
    pattern = '(?!/clusterbook)' if checkpoints else ''
    return {c.stem: frozenset(r for r, text in texts.items() if r != str(c) and re.search(
        f'work_dirs/{re.escape(c.stem)}{pattern}', text)) for c in CONFIGS}


def dependency_groups() -> Dict[str, str]:
    """Config -> the first config of its chain (configs linked by reading another's work
    dir): a parallel run keeps a chain in one process, so no run is repeated."""
    group = {str(c): str(c) for c in CONFIGS}

    def root(config: str) -> str:
        while group[config] != config:
            config = group[config]
        return config

    for config in CONFIGS:
        for reader in config_readers(checkpoints=False)[config.stem]:
            first, second = sorted((root(str(config)), root(reader)))
            group[second] = first
    return {config: root(config) for config in group}


def torch_threads() -> int:
    """The CI machine's 2 cores shared among the pytest-xdist workers of this run."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    return max(1, min(2, os.cpu_count() or 1) // workers)


class Sandbox:
    """Fake datasets + links to the repository's configs and tools (module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        write_fake_datasets(root)
        for name in ('configs', 'tools'):
            (root / name).symlink_to(REPO / name)
        self.outcomes: Dict[str, Outcome] = {}
        self.made: Dict[str, float] = {}
        self.nested = (0., 0.)  # wall and CPU seconds of the runs inside the current one
        self.readers = {stem: set(readers) for stem, readers in config_readers().items()}
        self.cheap_init = CheapInit()

    def call(self, tool: str, argv: List[str], cwd: Optional[Path] = None):
        """``tools/<tool>.py``'s ``main(argv)`` in ``cwd`` (the sandbox), with :func:`fast_runs`."""
        if tool not in TOOLS:
            TOOLS[tool] = load_tool(f'tools/{tool}.py')
        with working_dir(cwd or self.root), fast_runs(self.cheap_init):
            return TOOLS[tool].main([str(a) for a in argv])

    def make(self, key: str, tool: str, argv: List[str]) -> None:
        """Run a producing tool once per artefact ``key``."""
        if key not in self.made:
            start = time.perf_counter()
            self.call(tool, argv)
            self.made[key] = time.perf_counter() - start

    def run(self, config: str) -> Outcome:
        """Train and test ``config`` (once; later calls return the first outcome)."""
        if config in self.outcomes:
            return self.outcomes[config]
        outcome = self.outcomes[config] = Outcome(config)
        start, nested = (time.perf_counter(), time.process_time()), self.nested
        self.nested = (0., 0.)
        try:
            cfg = Config.fromfile(str(self.root / config))
            options = reduced_options(cfg) + self.artefacts(cfg, config)
            outcome.steps.append('train')
            runner = self.call('train', [config, '--cfg-options', *options])
            outcome.work_dir = Path(runner.work_dir)
            del runner
            pointer = outcome.work_dir / 'last_checkpoint'
            outcome.checkpoint = pointer.read_text().strip() if pointer.is_file() else None
            if cfg.get('test_cfg') and cfg.get('test_dataloader'):
                outcome.steps.append('test')
                outcome.metrics = self.call(
                    'test', [config, outcome.checkpoint, '--cfg-options', *options])
        except Exception as exc:  # reported by the test, with the step and traceback
            outcome.error = (f'{config} ({outcome.steps[-1] if outcome.steps else "artefacts"}):'
                             f' {type(exc).__name__}: {exc}\n{traceback.format_exc()}')
        elapsed = (time.perf_counter() - start[0], time.process_time() - start[1])
        # without the runs of its dependencies; CPU time is what contention does not inflate
        outcome.seconds, outcome.cpu_seconds = (e - n for e, n in zip(elapsed, self.nested))
        self.nested = tuple(n + e for n, e in zip(nested, elapsed))
        self.release(config)
        return outcome

    def release(self, config: str) -> None:
        """Delete the checkpoints no config still to run reads (ViT-B's are 330 MB each)."""
        for stem in [Path(config).stem] + [s for s, r in self.readers.items() if config in r]:
            self.readers.get(stem, set()).discard(config)
            if not self.readers.get(stem) and (self.root / 'work_dirs' / stem).is_dir():
                for checkpoint in (self.root / 'work_dirs' / stem).glob('*.pth'):
                    checkpoint.unlink()

    def artefacts(self, cfg: Config, config: str) -> List[str]:
        """Make what ``config`` reads; returns options naming a shortened run's checkpoint."""
        train = unwrap(cfg.train_dataloader.dataset) if cfg.get('train_dataloader') else {}
        crops = CROP_SET.search(train.get('data_prefix', {}).get('img_path', ''))
        if crops:
            argv = [CROP_SOURCES[crops['name']], '--split', crops['split'], '--name',
                    crops['name']]
            argv += ['--crop-type', 'super'] if crops['ratio'] is None else []
            self.make(crops.group(0), 'dataset_converters/five_crop', argv)
        reduced = size_options(cfg) + random_weights(cfg)
        if cfg.get('train_dataloader', {}).get('dataset', {}).get('type') == 'KNNPairDataset':
            self.make(cfg.train_dataloader.dataset.knn_file, 'precompute_knns',
                      [config, '--num-workers', 0, '--cfg-options', *reduced])
        if 'primaps_precompute' in cfg:  # one folder per out_dir and input size
            key = ' '.join([cfg.primaps_precompute.out_dir, *size_options(cfg)])
            self.make(key, 'precompute_primaps', [
                config, '--cfg-options', *reduced,
                *random_weights(cfg, 'primaps_precompute.model'),
                'primaps_precompute.dataloader.num_workers=0',
                'primaps_precompute.proposer.crf.num_workers=0'])
        self.saliency(train)
        return self.previous_runs(cfg, config)

    def saliency(self, train: dict) -> None:
        """DINO saliency masks (the command of the config's comment) when the tree lacks them."""
        for step in train.get('pipeline') or []:
            folder = step.get('saliency_dir')
            if step.get('type') == 'LoadSaliencyMask' and not (
                    self.root / train['data_root'] / folder).is_dir():
                self.make(folder, 'maskcontrast_dino_saliency', [
                    train['data_root'], '--split', 'ImageSets/Segmentation/trainaug.txt',
                    '--out-dir', folder, '--list-out', train['ann_file'], '--checkpoint',
                    'none'])

    def previous_runs(self, cfg: Config, config: str) -> List[str]:
        """Run the configs whose ``work_dirs/<config>`` a top-level key names; a checkpoint
        named after the full schedule's last epoch/iteration becomes the shortened run's."""
        options = []
        for key, value in cfg.items():
            match = PREVIOUS_RUN.match(value) if isinstance(value, str) else None
            if not match or match['stem'] == Path(config).stem:
                continue
            source = next(str(c) for c in CONFIGS if c.stem == match['stem'])
            outcome = self.run(source)
            if outcome.error:
                raise RuntimeError(f'{key}={value!r} needs {source}, which failed: '
                                   f'{outcome.error.splitlines()[0]}')
            last = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', match['rest'] or '')
            if last and not (self.root / value).exists():
                full = Config.fromfile(str(REPO / source)).train_cfg
                assert int(last[2]) == full[f'max_{last[1]}s'], (
                    f'{key}={value!r} is not the last checkpoint of {source}')
                options.append(f'{key}={outcome.checkpoint}')
        return options
