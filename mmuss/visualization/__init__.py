from .uss_local_visualizer import USSLocalVisualizer, cluster_palette, fit_palette
from .uss_visualization_hook import USSVisualizationHook, evaluated_image

__all__ = [
    'USSLocalVisualizer', 'USSVisualizationHook', 'cluster_palette', 'evaluated_image',
    'fit_palette'
]
