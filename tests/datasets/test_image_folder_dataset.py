"""ImageFolderDataset: a plain image folder, recursive and case-insensitive, labels optional."""
import pytest

from mmuss.datasets import ImageFolderDataset
from mmuss.datasets.image_folder_dataset import list_images


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'')


@pytest.fixture
def folder(tmp_path):
    for name in ('b.jpg', 'a.PNG', 'sub/c.jpeg', 'notes.txt', '.hidden.jpg', '.cache/d.jpg'):
        touch(tmp_path / 'imgs' / name)
    return tmp_path


def test_list_images_is_recursive_sorted_case_insensitive_and_skips_hidden(folder):
    assert list_images(str(folder / 'imgs')) == ['a.PNG', 'b.jpg', 'sub/c.jpeg']
    assert list_images(str(folder / 'imgs'), ('.jpg', )) == ['b.jpg']


def test_unlabelled_folder_has_no_label_paths(folder):
    ds = ImageFolderDataset(data_root=str(folder), data_prefix=dict(img_path='imgs'))
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert paths == [str(folder / 'imgs' / n) for n in ('a.PNG', 'b.jpg', 'sub/c.jpeg')]
    assert all('seg_map_path' not in ds.get_data_info(i) for i in range(len(ds)))


def test_labelled_subset_pairs_labels_and_names_a_missing_one(folder):
    for name in ('a.png', 'b.png', 'sub/c.png'):
        touch(folder / 'labels' / name)
    ds = ImageFolderDataset(data_root=str(folder),
                            data_prefix=dict(img_path='imgs', seg_map_path='labels'),
                            metainfo=dict(classes=('x', 'y')), test_mode=True)
    assert [ds.get_data_info(i)['seg_map_path'] for i in range(3)] == [
        str(folder / 'labels' / n) for n in ('a.png', 'b.png', 'sub/c.png')]
    (folder / 'labels' / 'sub' / 'c.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'labels/sub/c\.png.*sub/c\.jpeg'):
        ImageFolderDataset(data_root=str(folder),
                           data_prefix=dict(img_path='imgs', seg_map_path='labels'))


def test_missing_or_empty_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope'):
        ImageFolderDataset(data_root=str(tmp_path), data_prefix=dict(img_path='nope'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='No image .*empty'):
        ImageFolderDataset(data_root=str(tmp_path), data_prefix=dict(img_path='empty'))
