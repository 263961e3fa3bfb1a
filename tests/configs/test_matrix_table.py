"""configs/README.md's backbone matrix lists exactly the leaf configs on disk."""
import re
from pathlib import Path
from typing import Set, Tuple

REPO = Path(__file__).resolve().parents[2]
#: ``{method}_{backbone}_{schedule}_{dataset}-{crop}`` (configs/README.md)
NAME = re.compile(r'^(?P<method>[a-z0-9-]+)_(?P<backbone>[a-z0-9-]+)_\d+[a-z]*_'
                  r'(?P<dataset>[a-z0-9-]+)-\d+$')
Cell = Tuple[str, str, str]  # (method, dataset, backbone)


def table_cells(text: str) -> Set[Cell]:
    """The ✔ cells of the table between ``<!-- matrix -->`` and ``<!-- /matrix -->``."""
    body = text.split('<!-- matrix -->')[1].split('<!-- /matrix -->')[0].strip().splitlines()
    backbones = [c.strip() for c in body[0].strip('|').split('|')][2:]
    cells = set()
    for row in body[2:]:
        method, dataset, *marks = [c.strip().strip('`') for c in row.strip('|').split('|')]
        assert len(marks) == len(backbones), row
        cells |= {(method, dataset, bb) for bb, mark in zip(backbones, marks) if mark == '✔'}
    return cells


def config_cells(root: Path) -> Set[Cell]:
    """(method, dataset, backbone) of every leaf config named by the convention."""
    cells = set()
    for path in root.rglob('*.py'):
        match = NAME.match(path.stem)
        if '_base_' not in path.parts and match:
            cells.add((match['method'], match['dataset'], match['backbone']))
    return cells


def test_table_lists_the_configs_on_disk():
    table = table_cells((REPO / 'configs' / 'README.md').read_text(encoding='utf-8'))
    disk = config_cells(REPO / 'configs')
    assert not disk - table, f'configs missing from the table: {sorted(disk - table)}'
    assert not table - disk, f'table cells without a config: {sorted(table - disk)}'


def test_every_method_runs_on_every_matrix_backbone():
    """Issue 23: each method x {DINO S/8, B/8, DINOv2 B/14, DINOv3 S/16, B/16, L/16} x each
    dataset the method has a config for."""
    matrix = ('dino-vit-s8', 'dino-vit-b8', 'dinov2-vit-b14', 'dinov3-vit-s16', 'dinov3-vit-b16',
              'dinov3-vit-l16')
    disk = config_cells(REPO / 'configs')
    benchmarks = ('cityscapes27', 'cocostuff27', 'potsdam3', 'voc')
    missing = [(m, d, bb) for m, d, b in disk if b in matrix and d in benchmarks
               for bb in matrix if (m, d, bb) not in disk]
    assert not missing, sorted(set(missing))


def test_table_parser_sees_a_missing_and_an_extra_cell(tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 'stego_dino-vit-b8_5k_potsdam3-320.py').write_text('')
    (tmp_path / 'a' / 'headline.py').write_text('')  # no convention name: not in the table
    text = ('<!-- matrix -->\n| method | dataset | dino-vit-b8 | dino-vit-s8 |\n|---|---|---|---|\n'
            '| `stego` | `potsdam3` |  | ✔ |\n<!-- /matrix -->')
    assert config_cells(tmp_path) == {('stego', 'potsdam3', 'dino-vit-b8')}
    assert table_cells(text) == {('stego', 'potsdam3', 'dino-vit-s8')}
