from .uss_local_visualizer import USSLocalVisualizer, cluster_palette, fit_palette

__all__ = ['USSLocalVisualizer', 'cluster_palette', 'fit_palette']
