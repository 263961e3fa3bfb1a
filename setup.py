"""Install mmuss, an MMSegmentation 1.x extension for unsupervised semantic segmentation."""
from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    exec((Path(__file__).parent / 'mmuss' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='mmuss',
    version=read_version(),
    description='Unsupervised semantic segmentation (PriMaPs-EM, STEGO, HP, MaskContrast) '
    'as MMSegmentation 1.x components',
    long_description=(Path(__file__).parent / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    python_requires='>=3.8',
    packages=find_packages(include=['mmuss', 'mmuss.*']),
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10.0,<0.11.0',
        'mmcv>=2.1.0,<2.2.0',
        'mmsegmentation==1.2.2',
        'mmpretrain>=1.2.0,<1.3.0',
        'scikit-learn',
        'scipy',
        'pydensecrf2',
        'safetensors',
        'ftfy',
        'regex',
        'tqdm',
    ],
    extras_require={'tests': ['pytest', 'ruff']},
    license='Apache License 2.0',
)
