"""The model a hook acts on."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(runner) -> nn.Module:
    """``runner.model`` without its DDP (or other mmengine) wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model
