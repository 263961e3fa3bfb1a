"""A plain folder of images, with or without label maps: train on your own collection."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image

from .seg_dataset_checks import SegDatasetChecks

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_images(root: str, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> List[str]:
    """Sorted paths relative to ``root`` of the files under it (recursively) with an image suffix.

    Suffixes compare case-insensitively (``.JPG`` counts as ``.jpg``); hidden
    files and folders (``.name``) are skipped.
    """
    wanted = tuple(s.lower() for s in suffixes)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith('.')]
        for name in files:
            if not name.startswith('.') and name.lower().endswith(wanted):
                found.append(osp.relpath(osp.join(folder, name), root))
    return sorted(found)


def check_same_size(img_path: str, seg_map_path: str) -> None:
    """``ValueError`` naming both files when an image and its label map differ in size.

    Only the file headers are read; an unreadable file is left to the loading
    step, which names it.
    """
    try:
        with Image.open(img_path) as image, Image.open(seg_map_path) as labels:
            sizes = image.size, labels.size
    except OSError:
        return
    image_size, label_size = sizes
    if image_size != label_size:
        raise ValueError(f'Label map {seg_map_path!r} is {labels.size[1]}x{labels.size[0]} '
                             f'but its image {img_path!r} is {image.size[1]}x{image.size[0]}; '
                             f'labels must have the image\'s size (resize with nearest '
                             f'neighbour or fix the pairing).')


@DATASETS.register_module()
class ImageFolderDataset(SegDatasetChecks, BaseSegDataset):
    """Every image under a folder (recursively), labels optional.

    Without ``data_prefix['seg_map_path']`` samples carry no label and only
    label-free training applies (mmuss heads skip the linear probe when a
    batch has no ``gt_sem_seg``). With it, each image ``<img_path>/a/b.jpg``
    needs the label map ``<seg_map_path>/a/b<seg_map_suffix>`` — e.g. a small
    labelled subset for validation; ``metainfo=dict(classes=...)`` is then
    required for evaluation.

    Args:
        img_suffix: Accepted image suffixes (case-insensitive).
        seg_map_suffix: Suffix of label maps.
        data_prefix: ``dict(img_path=...)`` and optionally ``seg_map_path``,
            relative to ``data_root``.
        **kwargs: Arguments of ``BaseSegDataset``.
    """

    def __init__(self,
                 img_suffix: Sequence[str] = IMAGE_SUFFIXES,
                 seg_map_suffix: str = '.png',
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(img_suffix=tuple([img_suffix] if isinstance(img_suffix, str)
                                          else img_suffix),
                         seg_map_suffix=seg_map_suffix,
                         data_prefix=data_prefix or dict(img_path=''), **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'Image folder {img_dir!r} does not exist.')
        names = list_images(img_dir, self.img_suffix)
        if not names:
            raise FileNotFoundError(f'No image ({", ".join(self.img_suffix)}) under {img_dir!r}.')
        data_list = []
        for name in names:
            info = dict(img_path=osp.join(img_dir, name), label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label, seg_fields=[])
            if ann_dir is not None:
                seg_map = osp.join(ann_dir, osp.splitext(name)[0] + self.seg_map_suffix)
                if not osp.isfile(seg_map):
                    raise FileNotFoundError(f'Label map {seg_map!r} of image {info["img_path"]!r} '
                                            f'does not exist.')
                check_same_size(info['img_path'], seg_map)
                info['seg_map_path'] = seg_map
            data_list.append(info)
        return data_list
