"""Every tool command of README.md, docs/*.md and configs/*/README.md runs, in order, on fake data.

A command is a line of a shell code block (continuations joined, comments dropped) or an inline
code span starting with ``python tools/``, that runs ``python tools/...`` or ``tools/dist_*.sh``.
Each document's commands run in order in a fresh sandbox (tests/config_matrix.py: fake trees at
the configs' default paths); a failing command fails the test naming the file and line.

Added to a command, and nothing else: the matrix's ``--cfg-options`` reductions (input size,
batches of 2, 2 iterations, random weights, the CPU optimiser of AMP configs,
``tools/precompute_primaps.py`` without CRF worker processes), a checkpoint named after a full
schedule's end (``iter_2000.pth``) mapped to the shortened run's, and shell semantics: ``$VAR``
from an earlier ``VAR=...`` line, globs expanded. ``work_dirs/.../`` and a bare ``CKPT`` stand for
the command's config's work dir and checkpoint.

Not run, with the reason:

- usage lines (:data:`PLACEHOLDERS`: ``CONFIG``, ``[--options]``, ...): no concrete command;
- ``make`` targets (they install a virtual environment; ``make demo``'s run is emulated where a
  document relies on its output), ``pip``, ``cat``, ``huggingface-cli`` (network), ``torchrun``
  variants in comments;
- ``tools/slurm_train.sh`` (needs a Slurm cluster; its README lines are usage lines anyway);
- a command with ``--device cuda`` where torch sees no GPU (CI has none): it runs where one is.
"""
import glob
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest
import torch
from mmengine.config import Config
from scipy.io import savemat

from .config_matrix import REPO, Sandbox, reduced_options, scratch_dir, working_dir
from .image_folder_toys import write_photos

DOCS = [Path('README.md'), *sorted(Path('docs').glob('*.md')),
        *sorted(Path('configs').glob('*/README.md'))]
#: Tokens of usage lines: the command is a template, not something to run.
PLACEHOLDERS = {'CONFIG', 'CHECKPOINT', 'INPUT', 'DIR', 'NUM_PROCS', 'PARTITION', 'JOB',
                'YOUR_CONFIG', 'SRC_PATH_URL_OR_FOLDER', 'CFG', 'FILE'}
TOOL = re.compile(r'^(?:python (?P<script>tools/\S+\.py)|(?P<shell>tools/dist_\w+\.sh))\b')
INLINE = re.compile(r'`(python tools/[^`]+)`')
FENCE = re.compile(r'^\s*```(\w*)\s*$')
SHELLS = {'shell', 'bash', 'sh', 'console', ''}
LAST_CHECKPOINT = re.compile(r'^work_dirs/(?P<dir>[^/]+)/(?P<unit>epoch|iter)_(?P<n>\d+)\.pth$')
#: What ``make demo`` leaves that a document's commands use (tools/demo.py trains this config).
MAKE_DEMO = ('python tools/train.py configs/baseline/'
             'baseline_vit-tiny-p4_100i_synthetic-textures-96.py --work-dir work_dirs/demo')


@dataclass
class Command:
    doc: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f'{self.doc}:{self.line}: {self.text}'


def doc_commands(doc: Path) -> List[Command]:
    """Shell lines of the code blocks (continuations joined) and inline ``python tools/`` spans."""
    commands, block, pending = [], None, None
    for number, line in enumerate((REPO / doc).read_text().splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            block = None if block is not None else fence.group(1)
            continue
        if block is None:
            commands += [Command(doc, number, span) for span in INLINE.findall(line)]
        elif block in SHELLS:
            text = line.strip()
            if pending:
                pending.text += ' ' + text
            elif text and not text.startswith('#'):
                pending = Command(doc, number, text)
            if pending and not pending.text.endswith('\\'):
                commands.append(pending)
                pending = None
            elif pending:
                pending.text = pending.text[:-1].rstrip()
    return commands


def words(command: Command) -> List[str]:
    return shlex.split(command.text, comments=True)


def assignments(tokens: List[str]) -> Dict[str, str]:
    """Leading ``NAME=value`` words of a command."""
    found = {}
    for token in tokens:
        if not re.fullmatch(r'[A-Z_][A-Z0-9_]*=.*', token):
            break
        name, value = token.split('=', 1)
        found[name] = value
    return found


def runs_a_tool(tokens: List[str]) -> bool:
    rest = tokens[len(assignments(tokens)):]
    return bool(rest) and bool(TOOL.match(' '.join(rest)))


def is_usage_line(tokens: List[str]) -> bool:
    return any(t in PLACEHOLDERS or t.startswith('[') or '|' in t for t in tokens)


def needs_absent_gpu(tokens: List[str]) -> bool:
    """``--device cuda[:N]`` on a machine where torch sees no GPU."""
    devices = [b for a, b in zip(tokens, tokens[1:]) if a == '--device']
    return any(d.startswith('cuda') for d in devices) and not torch.cuda.is_available()


def skipped(tokens: List[str]) -> bool:
    return is_usage_line(tokens) or needs_absent_gpu(tokens)


class DocRun:
    """Runs one document's commands in order in its own sandbox."""

    def __init__(self, box: Sandbox, doc: Path) -> None:
        self.box, self.doc = box, doc
        self.env: Dict[str, str] = {}
        self.trained: Dict[str, str] = {}  # work dir -> the config trained there

    def expand(self, token: str) -> str:
        return re.sub(r'\$\{?([A-Z_][A-Z0-9_]*)\}?', lambda m: self.env.get(m[1], m[0]), token)

    def run(self, command: Command) -> None:
        tokens = [self.expand(t) for t in words(command)]
        names = assignments(tokens)
        tokens = tokens[len(names):]
        if not tokens:  # VAR=value: the shell variable of later lines
            self.env.update({k: self.outside(v) for k, v in names.items()})
            return
        config = next((t for t in tokens if t.startswith('configs/') and t.endswith('.py')), None)
        stem = Path(config).stem if config else None
        argv = [self.resolve(t, stem) for t in tokens]
        script = argv[1] if argv[0] == 'python' else argv[0]
        work_dir = self.work_dir_of(argv, stem)
        if config and not config.startswith('configs/_base_'):
            argv = self.with_reductions(argv, script, Config.fromfile(str(REPO / config)))
            if script.endswith(('train.py', '_train.sh')):
                self.trained[work_dir] = config
        if script.endswith('.sh'):
            self.shell(argv)
        else:
            tool = script[len('tools/'):-len('.py')]
            self.box.call(tool, argv[2:])

    def outside(self, value: str) -> str:
        """An absolute path of a ``VAR=`` line (a user's folder) moves into the sandbox."""
        if value.startswith('/'):
            return str(self.box.root / 'outside' / value.lstrip('/'))
        return value

    def work_dir_of(self, argv: List[str], stem: Optional[str]) -> Optional[str]:
        if '--work-dir' in argv:
            return os.path.normpath(argv[argv.index('--work-dir') + 1])
        return f'work_dirs/{stem}' if stem else None

    def resolve(self, token: str, stem: Optional[str]) -> str:
        """``work_dirs/.../``, ``CKPT``, a full schedule's last checkpoint, and globs (also as
        the value of a ``key=value`` option)."""
        option = re.fullmatch(r'([\w.]+=)(.+)', token)
        if option:
            return option[1] + self.resolve(option[2], stem)
        if token == 'CKPT':
            token = f'work_dirs/{stem}'
        token = token.replace('work_dirs/.../', f'work_dirs/{stem}/')
        with working_dir(self.box.root):
            if glob.has_magic(token):
                matches = sorted(glob.glob(token))
                assert len(matches) == 1, f'{token} matches {matches}'
                return matches[0]
            if token == f'work_dirs/{stem}' and os.path.isfile(f'{token}/last_checkpoint'):
                return Path(f'{token}/last_checkpoint').read_text().strip()
            last = LAST_CHECKPOINT.match(token)
            if last and not os.path.exists(token):
                return self.shortened(token, last)
        return token

    def shortened(self, token: str, last: re.Match) -> str:
        """The shortened run's last checkpoint for the full schedule's ``epoch_N``/``iter_N``."""
        work_dir = f'work_dirs/{last["dir"]}'
        config = self.trained.get(work_dir, f'configs/**/{last["dir"]}.py')
        source = glob.glob(str(REPO / config), recursive=True)
        assert source, f'{token}: no command trained into {work_dir}'
        full = Config.fromfile(source[0]).train_cfg[f'max_{last["unit"]}s']
        assert int(last['n']) == full, f'{token} is not the last checkpoint of {config}'
        return (self.box.root / work_dir / 'last_checkpoint').read_text().strip()

    def with_reductions(self, argv: List[str], script: str, cfg: Config) -> List[str]:
        options = reduced_options(cfg)
        if script.endswith('precompute_primaps.py'):
            options += ['primaps_precompute.dataloader.num_workers=0',
                        'primaps_precompute.proposer.crf.num_workers=0']
        if '--cfg-options' in argv:  # the command's own options come after ours and win
            at = argv.index('--cfg-options') + 1
            return argv[:at] + options + argv[at:]
        return argv + ['--cfg-options'] + options

    def shell(self, argv: List[str]) -> None:
        """``tools/dist_*.sh`` through bash, 2 gloo processes on a free port."""
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        env = dict(os.environ, PYTHON=sys.executable, PORT=str(port), OMP_NUM_THREADS='1',
                   PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
        done = subprocess.run(['bash', *argv], cwd=self.box.root, env=env, capture_output=True,
                              text=True, timeout=600)
        errors = [line for line in (done.stdout + done.stderr).splitlines() if 'Error' in line]
        assert done.returncode == 0, '\n'.join(errors[-6:]) or done.stderr[-3000:]


def prepare(run: DocRun) -> None:
    """What a document assumes beside the datasets: a user's photo folders, ``make demo``'s run,
    STEGO's Potsdam ``.mat`` archive (docs/datasets.md)."""
    box, doc = run.box, run.doc
    data = box.root / 'data'
    if doc == Path('docs/own_images.md'):
        write_photos(box.root / 'photos', [(40, 56), (48, 32), (36, 36)])
        shutil.copytree(data / 'my_images', data / 'my_photos')
        run.run(Command(doc, 0, MAKE_DEMO))
    if doc == Path('docs/datasets.md'):
        rng = np.random.default_rng(0)
        for name in ('imgs', 'gt'):
            (data / 'potsdam' / name).mkdir(parents=True)
        for split, ids in (('labelled_train', ('a', 'b')), ('labelled_test', ('c', ))):
            (data / 'potsdam' / f'{split}.txt').write_text(''.join(f'{i}\n' for i in ids))
            for i in ids:
                savemat(data / 'potsdam' / 'imgs' / f'{i}.mat', {'img': rng.random((16, 16, 4))})
                savemat(data / 'potsdam' / 'gt' / f'{i}.mat',
                        {'gt': rng.integers(0, 6, (16, 16)).astype(np.uint8)})


def runnable(doc: Path) -> List[Command]:
    return [c for c in doc_commands(doc) if runs_a_tool(words(c)) and not skipped(words(c))]


@pytest.mark.parametrize('doc', [d for d in DOCS if runnable(d)], ids=str)
def test_doc_commands_run_in_order(doc, tmp_path):
    with scratch_dir(lambda name: tmp_path, 'doc') as root:
        run_doc(DocRun(Sandbox(root), doc))


def run_doc(run: DocRun) -> None:
    """The document's commands in order; the first failure names its line."""
    ran = []
    try:
        prepare(run)
        for command in doc_commands(run.doc):
            tokens = words(command)
            sets_variables = tokens and len(assignments(tokens)) == len(tokens)
            if not sets_variables and (skipped(tokens) or not runs_a_tool(tokens)):
                continue
            try:
                run.run(command)
            except Exception as exc:  # the failing line, then the error
                pytest.fail(f'{command}\n  -> {type(exc).__name__}: {exc}', pytrace=False)
            ran += [command] if not sets_variables else []
    finally:
        for checkpoint in run.box.root.rglob('*.pth'):  # gigabytes; pytest keeps its temp dirs
            checkpoint.unlink()
    assert len(ran) == len(runnable(run.doc))


def test_every_document_with_tool_commands_is_run():
    """The extraction finds the flows the issue names (a parser regression would skip them)."""
    found = {str(d): len(runnable(d)) for d in DOCS}
    assert found['configs/stego/README.md'] >= 4 and found['configs/cause/README.md'] >= 10
    assert found['docs/own_images.md'] >= 5 and found['docs/datasets.md'] >= 3


def test_own_images_recipe_config_trains(tmp_path):
    """docs/own_images.md's "swap the data part" config block trains (it set
    data_preprocessor.size over the backbone base's size_divisor: mmseg refused the batch)."""
    text = (REPO / 'docs' / 'own_images.md').read_text()
    recipe = re.search(r"```python\n(_base_ = \['\.\./_base_/models/.*?)```", text, re.S)[1]
    box = Sandbox(tmp_path)
    shutil.copytree(box.root / 'data' / 'my_images', box.root / 'data' / 'my_photos')
    path = box.root / 'recipe.py'
    path.write_text(recipe.replace("'../_base_/", f"'{REPO}/configs/_base_/"))
    box.call('train', [path, '--cfg-options', *reduced_options(Config.fromfile(str(path)))])
    assert (box.root / 'work_dirs' / 'recipe' / 'last_checkpoint').is_file()


def test_gpu_commands_run_only_where_a_gpu_is(monkeypatch):
    """README's ``selfcheck.py --device cuda`` failed CI, which has no GPU; on a GPU it runs."""
    cuda = ['python', 'tools/selfcheck.py', '--device', 'cuda']
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert skipped(cuda) and not skipped(['python', 'tools/selfcheck.py', '--device', 'cpu'])
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert not skipped(cuda)
