"""PyTorch training and ONNX export for the visual product search models (see README.md)."""
