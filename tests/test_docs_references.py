"""Every file, function, class and method the docs name exists (AST of the sources, no model built).

Checked in ``README.md``, ``docs/*.md`` and ``docs/methods/*.md``, inside backticks:

- paths ``mmuss/…``, ``tools/…``, ``tests/…``, ``benchmarks/…`` (``configs/…`` is skipped);
- ``file.py::name`` and ``file.py::Class.method`` (``file.py`` a path or a basename that
  names one source file; other basenames, e.g. of configs or reference code, are skipped);
- ``file.py`` or ``file.py::name`` followed by ``: `a`, `b``` or ``, `a``` — more names
  defined in that file;
- ``Class.method`` of a class defined in the package (method found along its bases);
- CamelCase names: a package class, a third-party class, or a reference-code name below.
"""
import ast
import builtins
import importlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md')),
        *sorted((ROOT / 'docs' / 'methods').glob('*.md'))]
SOURCE_DIRS = ('mmuss', 'tools', 'tests', 'benchmarks')
CHECKED_PREFIXES = ('mmuss/', 'tools/', 'tests/', 'benchmarks/')

# Names of the reference implementations and of libraries not imported here (transformers).
REFERENCE_NAMES = {
    'ClusterLookup', 'ContrastiveCRFLoss', 'ModelCheckpoint', 'NiceTool', 'SupConLoss',
    'UnsupervisedMetrics', 'ViTModel', 'Dinov2Model', 'Dinov2WithRegistersModel',
    'DINOv3ViTModel', 'PriMaPsProposer', 'ToPILImage', 'Dinov2Backbone',
    'ViTForImageClassification', 'ViTForMaskedImageModeling',
}
# Where third-party classes the docs name live.
THIRD_PARTY_MODULES = (
    'mmseg.models', 'mmseg.models.segmentors', 'mmseg.datasets', 'mmseg.datasets.transforms',
    'mmseg.structures', 'mmseg.visualization', 'mmseg.engine.hooks', 'mmengine.hooks',
    'mmengine.optim', 'mmengine.runner', 'mmengine.logging', 'mmcv.cnn', 'mmcv.transforms',
    'torch', 'torch.nn', 'torchvision.transforms')

SPAN = re.compile(r'`([^`\n]+)`')
QUALIFIED = re.compile(r'^(?P<file>[\w./-]+\.py)::(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)$')
PATH = re.compile(r'^(?:mmuss|tools|tests|benchmarks)/[\w./-]*$')
PY_FILE = re.compile(r'^[\w./-]+\.py$')
NAME = re.compile(r'^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?$')
CLASS_METHOD = re.compile(r'^(?P<cls>[A-Z]\w*[a-z]\w*)\.(?P<attr>[a-z_]\w*)$')
CAMEL = re.compile(r'^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*$')


def registered_names(node: ast.ClassDef) -> Set[str]:
    """Names a class is registered under besides its own (``register_module(name=[...])``)."""
    names = set()
    for dec in node.decorator_list:
        for kw in getattr(dec, 'keywords', []):
            if kw.arg == 'name':
                names |= {c.value for c in ast.walk(kw.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return names - {node.name}


class ModuleIndex:
    """Top-level names, classes with their methods and bases, of one source file."""

    def __init__(self, path: Path) -> None:
        tree = ast.parse(path.read_text(), filename=str(path))
        self.names: Set[str] = set()
        self.classes: Dict[str, Tuple[Set[str], List[str]]] = {}
        self.aliases: Dict[str, Set[str]] = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.names.add(node.name)
            elif isinstance(node, ast.ClassDef):
                self.names.add(node.name)
                self.aliases[node.name] = registered_names(node)
                members = {n.name for n in node.body
                           if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                members |= {t.id for n in node.body if isinstance(n, ast.Assign)
                            for t in n.targets if isinstance(t, ast.Name)}
                members |= {n.target.id for n in node.body
                            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
                members |= {a.arg for n in node.body if isinstance(n, ast.FunctionDef)
                            and n.name == '__init__' for a in n.args.args + n.args.kwonlyargs}
                members |= {t.attr for n in ast.walk(node) if isinstance(n, ast.Assign)
                            for t in n.targets if isinstance(t, ast.Attribute)
                            and isinstance(t.value, ast.Name) and t.value.id == 'self'}
                bases = [ast.unparse(b).split('.')[-1] for b in node.bases]
                self.classes[node.name] = (members, bases)
            elif isinstance(node, ast.Assign):
                self.names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                self.names.add(node.target.id)


@lru_cache(maxsize=None)
def source_files() -> Dict[str, Path]:
    """Relative path → file, for every Python source of the repository."""
    return {str(p.relative_to(ROOT)): p for d in SOURCE_DIRS for p in (ROOT / d).rglob('*.py')}


@lru_cache(maxsize=None)
def index(rel: str) -> ModuleIndex:
    return ModuleIndex(source_files()[rel])


@lru_cache(maxsize=None)
def package_classes() -> Dict[str, str]:
    """Class name (or registry alias) → file, for the classes defined in ``mmuss/``."""
    found = {}
    for rel in source_files():
        if rel.startswith('mmuss/'):
            for cls in index(rel).classes:
                found[cls] = rel
                found.update({alias: rel for alias in index(rel).aliases[cls]})
    return found


def has_member(cls: str, attr: str) -> bool:
    """``attr`` is defined on package class ``cls`` or a base (package: AST; others: import)."""
    seen = set()
    todo = [cls]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in package_classes():
            module = index(package_classes()[name])
            real = next(c for c in module.classes if c == name or name in module.aliases[c])
            members, bases = module.classes[real]
            if attr in members:
                return True
            todo.extend(bases)
        else:
            base = third_party_class(name)
            if base is not None and hasattr(base, attr):
                return True
    return False


@lru_cache(maxsize=None)
def third_party_class(name: str) -> Optional[type]:
    if hasattr(builtins, name):
        return getattr(builtins, name)
    for module in THIRD_PARTY_MODULES:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    return None


def resolve_file(ref: str, page_paths: List[str]) -> Optional[str]:
    """A ``.py`` reference → repository path: itself, under ``mmuss/``, or a unique basename."""
    for rel in (ref, f'mmuss/{ref}'):
        if rel in source_files():
            return rel
    if '/' in ref:
        return None
    on_page = {p for p in page_paths if p.rsplit('/', 1)[-1] == ref}
    if len(on_page) == 1:
        return on_page.pop()
    matches = [p for p in source_files() if p.rsplit('/', 1)[-1] == ref]
    return matches[0] if len(matches) == 1 else None


def defined_in(rel: str, name: str) -> bool:
    """``name`` (or ``Class.attr``, the class here or anywhere in the package) exists."""
    if '.' not in name:
        return name in index(rel).names
    cls, attr = name.split('.')
    return (cls in index(rel).classes or cls in package_classes()) and has_member(cls, attr)


def references(doc: Path) -> Iterator[Tuple[int, str]]:
    """``(line number, problem)`` for every reference of ``doc`` that does not resolve."""
    text = doc.read_text()
    page_paths = [s for s in SPAN.findall(text) if s in source_files()]
    for lineno, line in enumerate(text.splitlines(), 1):
        spans = list(SPAN.finditer(line))
        current = None  # the file a ``: `a`, `b``` list refers to
        for i, match in enumerate(spans):
            span = match.group(1).strip()
            between = line[spans[i - 1].end():match.start()] if i else ''
            if current is not None and not re.fullmatch(r'\s*[:,]\s*', between):
                current = None
            qualified = QUALIFIED.match(span)
            if qualified:
                rel = resolve_file(qualified['file'], page_paths)
                if rel is None:
                    yield lineno, f'no file {qualified["file"]!r} ({span})'
                elif not defined_in(rel, qualified['name']):
                    yield lineno, f'{rel} defines no {qualified["name"]!r} ({span})'
                current = rel
                continue
            if span.startswith('configs/'):
                current = None
                continue
            if PY_FILE.match(span):
                current = resolve_file(span, page_paths)
                if current is None and PATH.match(span):
                    yield lineno, f'no file {span!r}'
                continue
            if PATH.match(span):
                if not (ROOT / span.rstrip('/')).exists():
                    yield lineno, f'no path {span!r}'
                continue
            if current is not None and NAME.match(span):
                if not defined_in(current, span):
                    yield lineno, f'{current} defines no {span!r}'
                continue
            method = CLASS_METHOD.match(span)
            if method and method['cls'] in package_classes():
                if not has_member(method['cls'], method['attr']):
                    yield lineno, f'{method["cls"]} has no {method["attr"]!r}'
                continue
            if CAMEL.match(span) and span not in package_classes() \
                    and span not in REFERENCE_NAMES and third_party_class(span) is None:
                yield lineno, f'no class {span!r} in mmuss or the libraries'


@pytest.mark.parametrize('doc', DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_name_what_exists(doc):
    problems = [f'{doc.relative_to(ROOT)}:{n}: {p}' for n, p in references(doc)]
    assert not problems, '\n'.join(problems)


def test_checker_catches_stale_names(tmp_path):
    """The checker flags a renamed function, a merged class's method and a missing file."""
    doc = tmp_path / 'stale.md'
    doc.write_text('`mmuss/models/utils/cluster_probe.py::no_such_function`\n'
                   '`mmuss/models/utils/ema.py`: `ema_update_`, `no_such_helper`\n'
                   '`FrozenBackboneSegmentor.no_such_method`\n'
                   '`mmuss/no_such_file.py`\n'
                   '`NoSuchSegmentor`\n')
    problems = [p for _, p in references(doc)]
    assert len(problems) == 5, problems
