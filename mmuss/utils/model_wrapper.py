"""The model inside mmengine's wrappers."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(model: nn.Module) -> nn.Module:
    """``model`` without its DDP (or other mmengine) wrapper."""
    return model.module if is_model_wrapper(model) else model
