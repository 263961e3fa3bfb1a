"""Install mmuss, an MMSegmentation 1.x extension for unsupervised semantic segmentation."""
from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    exec((Path(__file__).parent / 'mmuss' / 'version.py').read_text(), namespace)
    return namespace['__version__']


def mim_files() -> list:
    """``.mim/configs/**`` and ``.mim/tools/**`` file paths relative to ``mmuss/``."""
    package = Path(__file__).parent / 'mmuss'
    return ['.mim/model-index.yml'] + sorted(
        str(Path('.mim', top, path.relative_to(package / '.mim' / top)))
        for top in ('configs', 'tools')
        for path in (package / '.mim' / top).rglob('*')
        if path.is_file() and '__pycache__' not in path.parts)


setup(
    name='mmuss',
    version=read_version(),
    description='Unsupervised semantic segmentation (PriMaPs-EM, STEGO, HP, MaskContrast) '
    'as MMSegmentation 1.x components',
    long_description=(Path(__file__).parent / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=find_packages(include=['mmuss', 'mmuss.*']),
    # Configs and tools ship inside the package, as mmseg's `.mim/`: `_base_ = 'mmuss::...'`
    # and mim find them. mmuss/.mim/{configs,tools} are symlinks to the top-level folders.
    package_data={'mmuss': mim_files()},
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10.0,<0.11.0',
        'mmcv>=2.1.0,<2.2.0',
        'mmsegmentation==1.2.2',
        'scikit-learn',
        'scipy',
        'pydensecrf2',
        'safetensors',
        'ftfy',
        'regex',
        'tqdm',
    ],
    extras_require={'tests': ['pytest', 'pytest-xdist>=3.5', 'ruff']},
    license='Apache License 2.0',
)
