from .stego_correlation_loss import StegoCorrelationLoss

__all__ = ['StegoCorrelationLoss']
