"""Command-line options every mmuss tool shares (``--cfg-options``, ``--launcher``,
``--trust-checkpoint``, ...)."""
import argparse
import os
from typing import List, Optional

from mmengine.config import DictAction

from mmuss.utils.checkpoint import TRUST_ENV


def add_cfg_options_arg(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, shared by every tool that reads a config."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. data_root=/data/x train_cfg.max_iters=100')



def add_launch_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank``, shared by the tools."""
    add_cfg_options_arg(parser)
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)



class TrustCheckpointAction(argparse.Action):
    """``--trust-checkpoint``: sets ``MMUSS_TRUST_CHECKPOINTS=1`` as soon as it is parsed."""

    def __init__(self, option_strings: List[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        os.environ[TRUST_ENV] = '1'
        setattr(namespace, self.dest, True)



def add_trust_checkpoint_arg(parser: argparse.ArgumentParser) -> None:
    """``--trust-checkpoint``, which every tool that reads checkpoints takes."""
    parser.add_argument(
        '--trust-checkpoint', action=TrustCheckpointAction,
        help=f'unpickle local checkpoints that torch\'s safe loader refuses (sets {TRUST_ENV}=1;'
        ' config: trust_checkpoint = True). Only for files you trust: unpickling runs code')



def add_checkpoint_args(parser: argparse.ArgumentParser) -> None:
    """``--trust-checkpoint`` and ``--allow-shape-mismatch``, shared by train and test."""
    add_trust_checkpoint_arg(parser)
    parser.add_argument(
        '--allow-shape-mismatch', action='store_true',
        help='load a checkpoint whose tensor shapes differ from the model, keeping the '
        "model's values there (config: allow_shape_mismatch = True)")



def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` for launchers that pass ``--local-rank``."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
