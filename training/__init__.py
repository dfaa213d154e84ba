"""PyTorch training and ONNX export for the visual product search models (see README.md)."""
import os as _os

# On a shared CPU, OpenMP threads that spin while waiting for a descheduled sibling waste most of
# the time; passive waiting was ~2x faster under load here. Must be set before torch loads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
