"""PyTorch side of bench/embedder-latency.ts: the shipped embedder in PyTorch, timed on CPU.

Prints one JSON line: {"batch": {"1": ms_per_image, "32": ms_per_image}, "weights": ..., ...}.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.getcwd())
from training.model import Embedder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seconds", type=float, default=5.0, help="time budget per batch size")
    args = ap.parse_args()
    with open(os.path.join(args.models, "manifest.json")) as f:
        manifest = json.load(f)
    size = manifest["input"]["size"]
    channels = manifest["features"]["shape"][0]
    torch.set_num_threads(args.threads)
    model = Embedder(dim=manifest["embedding"]["dim"], channels=channels).eval()
    weights = os.path.join(args.models, "embedder.pt")
    if os.path.exists(weights):
        model.load_state_dict(torch.load(weights, map_location="cpu"))
    out = {"torch": torch.__version__, "threads": args.threads, "weights": "trained" if os.path.exists(weights) else "same architecture, untrained", "batch": {}}
    with torch.inference_mode():
        for batch in (1, 32):
            x = torch.randn(batch, 3, size, size)
            for _ in range(3):
                model(x)
            runs, started = 0, time.perf_counter()
            while time.perf_counter() - started < args.seconds:
                model(x)
                runs += 1
            out["batch"][str(batch)] = (time.perf_counter() - started) * 1000 / runs / batch
    print(json.dumps(out))


if __name__ == "__main__":
    main()
