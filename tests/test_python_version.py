"""The oldest Python that setup.py and the README claim can parse and run the shipped code.

Every shipped ``.py`` file (package, tools, configs, benchmarks, setup.py) is parsed with that
version's grammar (``ast.parse(feature_version=...)``) and scanned for the newer built-ins and
standard-library names below, which the grammar check alone does not see.
"""
import ast
import re
from pathlib import Path
from typing import Iterator, List, Tuple

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ('mmuss', 'tools', 'configs', 'benchmarks')

# Attribute or imported names, and the Python that added them.
NEWER_NAMES = {
    'removeprefix': (3, 9), 'removesuffix': (3, 9), 'zoneinfo': (3, 9), 'graphlib': (3, 9),
    'pairwise': (3, 10), 'bit_count': (3, 10), 'ParamSpec': (3, 10), 'TypeAlias': (3, 10),
    'tomllib': (3, 11), 'file_digest': (3, 11), 'StrEnum': (3, 11), 'TaskGroup': (3, 11),
    'add_note': (3, 11), 'Self': (3, 11), 'LiteralString': (3, 11), 'UTC': (3, 11),
    'batched': (3, 12), 'override': (3, 12),
}
# Keyword arguments of built-ins, and the Python that added them.
NEWER_KEYWORDS = {('zip', 'strict'): (3, 10)}


def oldest_claimed() -> Tuple[int, int]:
    """``python_requires='>=X.Y'`` of setup.py."""
    found = re.search(r"python_requires\s*=\s*'>=\s*(\d+)\.(\d+)'",
                      (REPO / 'setup.py').read_text())
    assert found, 'setup.py has no python_requires=">=X.Y"'
    return int(found.group(1)), int(found.group(2))


def shipped_files() -> List[Path]:
    files = [REPO / 'setup.py']
    for top in SHIPPED:
        files += sorted(p for p in (REPO / top).rglob('*.py') if '__pycache__' not in p.parts)
    return files


def newer_uses(tree: ast.AST) -> Iterator[Tuple[int, str, Tuple[int, int]]]:
    """``(line, what, version)`` of every use of :data:`NEWER_NAMES` / :data:`NEWER_KEYWORDS`."""
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name.split('.')[0] for alias in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module.split('.')[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            for keyword in node.keywords:
                version = NEWER_KEYWORDS.get((node.func.id, keyword.arg))
                if version:
                    yield node.lineno, f'{node.func.id}({keyword.arg}=...)', version
        for name in names:
            if name in NEWER_NAMES:
                yield node.lineno, name, NEWER_NAMES[name]


def test_readme_states_the_setup_py_minimum():
    major, minor = oldest_claimed()
    row = next(line for line in (REPO / 'README.md').read_text().splitlines()
               if line.startswith('| Python |'))
    assert re.search(rf'\|\s*{major}\.{minor}\b', row), row


def test_shipped_code_runs_on_the_oldest_claimed_python():
    oldest = oldest_claimed()
    problems = []
    for path in shipped_files():
        source = path.read_text()
        try:
            tree = ast.parse(source, filename=str(path), feature_version=oldest)
        except SyntaxError as err:
            problems.append(f'{path.relative_to(REPO)}:{err.lineno}: syntax newer than '
                            f'{oldest}: {err.msg}')
            continue
        problems += [f'{path.relative_to(REPO)}:{line}: {what} needs Python '
                     f'{version[0]}.{version[1]}' for line, what, version in newer_uses(tree)
                     if version > oldest]
    assert not problems, f'python_requires >= {oldest}, but:\n' + '\n'.join(problems[:30])


def test_the_scan_sees_a_newer_name():
    tree = ast.parse('import tomllib\nzip(a, b, strict=True)\n"ab".removeprefix("a")\n')
    assert sorted(what for _, what, _ in newer_uses(tree)) == [
        'removeprefix', 'tomllib', 'zip(strict=...)']
