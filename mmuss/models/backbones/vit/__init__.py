"""The ViT stack of the DINO backbones: layers, RoPE, official checkpoint loading."""
