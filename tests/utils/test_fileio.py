import errno
import os

import pytest

from mmuss.utils.fileio import atomic_write, atomic_write_json, atomic_write_text


def test_the_file_appears_whole_and_no_temporary_is_left(tmp_path):
    path = tmp_path / 'table.json'
    atomic_write_json(str(path), {'a': [1, 2]})
    assert path.read_text() == '{"a": [1, 2]}'
    assert os.listdir(tmp_path) == ['table.json']


def test_a_full_disk_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / 'manifest.json'
    atomic_write_text(str(path), 'old')

    def fill_the_disk(tmp: str) -> None:
        with open(tmp, 'w') as handle:
            handle.write('half')
        raise OSError(errno.ENOSPC, 'No space left on device')

    with pytest.raises(OSError, match='No space left'):
        atomic_write(str(path), fill_the_disk)
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['manifest.json']


def test_the_temporary_ends_with_the_suffix_writers_pick_formats_by(tmp_path):
    names = []
    atomic_write(str(tmp_path / 'mask.png'), lambda tmp: (names.append(tmp),
                                                          open(tmp, 'w').close()), '.png')
    assert names[0].endswith('.png') and os.path.dirname(names[0]) == str(tmp_path)
