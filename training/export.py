"""ONNX export, parity fixtures for the TypeScript side, and file hashes."""
from __future__ import annotations

import copy
import warnings
import hashlib
import json
import os
from typing import Dict

import numpy as np
import torch
from PIL import Image

from .colour import served
from .model import Embedder, Scorer, ScorerProbability
from .preprocess import MEAN, STD, preprocess

OPSET = 17
PARITY_TOLERANCE = 1e-4
# Both sides' feature maps, then both sides' served embeddings (whose cosine is the scorer's base).
SCORER_INPUTS = ("query_features", "candidate_features", "query_embedding", "candidate_embedding")


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def served_embedder(embedder: Embedder, colour_weight: float) -> torch.nn.Module:
    """The embedder as exported: a CPU copy in eval mode, with the colour descriptor fused in when weighted."""
    emb = copy.deepcopy(embedder).cpu().to(memory_format=torch.contiguous_format).eval()
    return served(emb, MEAN, STD, colour_weight).eval()


def export_onnx(embedder: Embedder, scorer: Scorer, size: int, out_dir: str, colour_weight: float = 0.0) -> Dict[str, str]:
    emb = served_embedder(embedder, colour_weight)
    sc = ScorerProbability(copy.deepcopy(scorer).cpu().to(memory_format=torch.contiguous_format).eval()).eval()
    c = emb.channels
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    with torch.no_grad():
        x = torch.zeros(2, 3, size, size)
        z, f = emb(x)
        e_path = os.path.join(out_dir, "embedder.onnx")
        torch.onnx.export(
            emb, (x,), e_path, opset_version=OPSET, input_names=["image"], output_names=["embedding", "features"],
            dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}, "features": {0: "batch"}},
            do_constant_folding=True,
        )
        s_path = os.path.join(out_dir, "scorer.onnx")
        torch.onnx.export(
            sc, (f, f, z, z), s_path, opset_version=OPSET, input_names=list(SCORER_INPUTS), output_names=["score"],
            dynamic_axes={**{name: {0: "batch"} for name in SCORER_INPUTS}, "score": {0: "batch"}},
            do_constant_folding=True,
        )
    return {"embedder": e_path, "scorer": s_path, "channels": c}


def synthetic_image(width: int = 256, height: int = 224) -> Image.Image:
    """A deterministic test picture: gradients, a disc, a rectangle, stripes and a checker patch.
    Larger than the model input in both directions (up to 192 px models, the shipped 2.5.0's size), as
    the photos the service resizes are (sharp's 'linear' kernel and PIL's bilinear differ far more when
    enlarging)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255 * xx / (width - 1)
    g = 255 * yy / (height - 1)
    b = 128 + 100 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    img = np.stack([r, g, b], -1)
    disc = (xx - 45) ** 2 + (yy - 55) ** 2 < 28 ** 2
    img[disc] = [230, 40, 60]
    rect = (xx > 90) & (xx < 135) & (yy > 15) & (yy < 50)
    img[rect] = [20, 60, 200]
    stripes = (xx > 85) & (xx < 145) & (yy > 65) & (yy < 100) & ((xx // 4) % 2 == 0)
    img[stripes] = [250, 250, 240]
    checker = (xx < 25) & (yy < 25) & (((xx // 5) + (yy // 5)) % 2 == 0)
    img[checker] = [10, 10, 10]
    return Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8), "RGB")


def _write_f32(path: str, arr) -> None:
    np.ascontiguousarray(np.asarray(arr, dtype="<f4")).tofile(path)


def write_parity(embedder: Embedder, scorer: Scorer, size: int, out_dir: str, colour_weight: float = 0.0,
                 seed: int = 1234) -> dict:
    """models/parity/: inputs and PyTorch outputs the TypeScript side compares onnxruntime against."""
    pdir = os.path.join(out_dir, "parity")
    os.makedirs(pdir, exist_ok=True)
    emb = served_embedder(embedder, colour_weight)
    sc = ScorerProbability(copy.deepcopy(scorer).cpu().to(memory_format=torch.contiguous_format).eval()).eval()
    img = synthetic_image()
    img.save(os.path.join(pdir, "image.png"))
    image_tensor = preprocess(os.path.join(pdir, "image.png"), size)[None]
    _write_f32(os.path.join(pdir, "image.tensor.f32"), image_tensor)
    gen = torch.Generator().manual_seed(seed)
    image = torch.from_numpy(image_tensor)
    # Row 2, the picture half drowned in noise, scores well inside (0, 1) against row 1 (2.6.0: 0.69,
    # moved there by the local-match term), where pure noise against the picture saturates the
    # sigmoid at 0 or 1 and would hide an error in the scorer.
    noise = torch.randn(2, 3, size, size, generator=gen)
    x = torch.cat([noise[:1], image, 0.5 * image + 0.5 * noise[1:]], 0)
    with torch.no_grad():
        z, f = emb(x)
        pairs = [(0, 1), (1, 0), (0, 0), (1, 2)]
        q, c = [p[0] for p in pairs], [p[1] for p in pairs]
        s = sc(f[q], f[c], z[q], z[c])
    _write_f32(os.path.join(pdir, "input.f32"), x.numpy())
    _write_f32(os.path.join(pdir, "embedding.f32"), z.numpy())
    _write_f32(os.path.join(pdir, "features.f32"), f.numpy())
    _write_f32(os.path.join(pdir, "score.f32"), s.numpy())
    c, h, w = f.shape[1:]
    spec = {
        "description": "Inputs and PyTorch outputs for checking the ONNX models (onnxruntime) and the "
                       "preprocessing. All .f32 files: little-endian float32, row-major (C order).",
        "dtype": "float32",
        "endianness": "little",
        "tolerance": PARITY_TOLERANCE,
        "image": {"path": "image.png", "width": img.width, "height": img.height,
                  "note": "synthetic test picture; image.tensor.f32 is training/preprocess.py's output for it"},
        "tensors": {
            "imageTensor": {"path": "image.tensor.f32", "shape": [1, 3, size, size], "tolerance": PARITY_TOLERANCE,
                            "note": "preprocess(image.png): PIL antialiased bilinear fill-resize, /255, mean/std. "
                                    "sharp's resize(S, S, {fit: 'fill', kernel: 'linear'}) differs by at most "
                                    "about 2/255 per pixel (measured maxAbs 0.035, meanAbs 0.0016 after "
                                    "normalisation): compare it with maxAbs/meanAbs, not 1e-4",
                            "maxAbs": 0.06, "meanAbs": 0.005},
            "input": {"path": "input.f32", "shape": [int(x.shape[0]), 3, size, size], "tolerance": PARITY_TOLERANCE,
                      "note": "row 0: seeded standard normal noise; row 1: imageTensor; row 2: (imageTensor + more of the same noise) / 2"},
            "embedding": {"path": "embedding.f32", "shape": [int(x.shape[0]), int(z.shape[1])], "tolerance": PARITY_TOLERANCE,
                          "model": "embedder", "output": "embedding", "from": "input"},
            "features": {"path": "features.f32", "shape": [int(x.shape[0]), int(c), int(h), int(w)], "tolerance": PARITY_TOLERANCE,
                         "model": "embedder", "output": "features", "from": "input"},
            "score": {"path": "score.f32", "shape": [len(pairs)], "tolerance": PARITY_TOLERANCE,
                      "model": "scorer", "output": "score", "pairs": [list(p) for p in pairs],
                      "note": "score[k] = scorer(query_features=features[i], candidate_features=features[j], "
                              "query_embedding=embedding[i], candidate_embedding=embedding[j]) for (i, j) = pairs[k]"},
        },
    }
    with open(os.path.join(pdir, "parity.json"), "w") as fh:
        json.dump(spec, fh, indent=2)
        fh.write("\n")
    return spec


def main(argv=None) -> int:
    """python -m training.export MODELS_DIR: rewrites MODELS_DIR/parity from its weights.pt."""
    import argparse
    from .model import Embedder, Scorer
    p = argparse.ArgumentParser(prog="python -m training.export", description=main.__doc__)
    p.add_argument("models_dir")
    a = p.parse_args(argv)
    saved = torch.load(os.path.join(a.models_dir, "weights.pt"), map_location="cpu")
    cfg = saved["config"]
    embedder = Embedder(cfg["dim"], cfg["width"], cfg["channels"])
    embedder.load_state_dict(saved["embedder"])
    scorer = Scorer(cfg["channels"], local_weight=cfg.get("local_weight", 0.0))
    scorer.load_weights(saved["scorer"])
    write_parity(embedder, scorer, cfg["size"], a.models_dir, cfg.get("colour_weight", 0.0))
    print(f"wrote {os.path.join(a.models_dir, 'parity')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
