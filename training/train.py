"""Train the Siamese models and export them: python -m training.train --images-dir DIR [options].

Stage 1 (embedder): two independently augmented views of each photo are a positive pair, the
other photos of the batch are negatives (NT-Xent); with labels a supervised contrastive term
pulls same-label photos together. Stage 2 (scorer, embedder frozen): listwise cross-entropy over
the shortlists the served embedding (colour term included) really gives photo-like queries, as a
correction on that embedding's cosine. Then ONNX export, parity fixtures, loss curve and
models/manifest.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone

import numpy as np
import torch

from . import data as datamod
from .augment import RECIPES, augment, clean_batch
from .colour import colour_dim, served
from .export import SCORER_INPUTS, export_onnx, sha256_file, write_parity
from .losses import embedder_loss, shortlist_loss, supcon
from .model import Embedder, Scorer, count_params
from .preprocess import MEAN, STD, SCALE
from .synthetic import synthetic_cache

CL = torch.channels_last  # ~2x faster convolutions on CPU
MODEL_NAME = "siamese-cc0"
MODEL_VERSION = "2.0.0"

# Defaults = the shipped model's training run (README: the short command).
DEFAULTS = dict(epochs=40, scorer_epochs=3, batch_size=128, lr=2e-3, size=128, dim=128, seed=0, colour_weight=0.2,
                local_weight=4.0)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--images-dir", required=True, help="folder of images (searched recursively without --labels)")
    p.add_argument("--labels", default=None, help="CSV with columns path,label[,split]; paths relative to --images-dir")
    p.add_argument("--split", default="train", help="which split of --labels to train on ('all' for every row)")
    p.add_argument("--eval-split", default="validation", help="split of --labels for the final retrieval check ('none' to skip)")
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="embedder epochs")
    p.add_argument("--scorer-epochs", type=int, default=DEFAULTS["scorer_epochs"], help="scorer epochs (embedder frozen)")
    p.add_argument("--max-steps", type=int, default=0, help="cap on optimizer steps per stage (0: no cap)")
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="photos per step (each gives 2 views)")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="peak AdamW learning rate (warmup + cosine)")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--size", type=int, default=DEFAULTS["size"], help="square input side in pixels (multiple of 16)")
    p.add_argument("--dim", type=int, default=DEFAULTS["dim"], help="embedding dimension")
    p.add_argument("--width", type=int, default=32, help="CNN base width (feature channels stay 128)")
    p.add_argument("--channels", type=int, default=128, help="feature map channels C")
    p.add_argument("--augment", default="classic", choices=RECIPES,
                   help="view recipe: classic (1.0.0), photo (wider geometry, uneven light, occluders, motion blur, low "
                        "resolution) or mixed (one view of each pair classic, the other photo; photo queries for the scorer)")
    p.add_argument("--synthetic", type=int, default=0,
                   help="add this many procedurally generated products (training/synthetic.py), each its own instance")
    p.add_argument("--temperature", type=float, default=0.1, help="contrastive temperature")
    p.add_argument("--colour-weight", type=float, default=DEFAULTS["colour_weight"],
                   help="share of the exported embedding's cosine given to the fixed colour descriptor "
                        "(training/colour.py; 0: the network's embedding alone)")
    p.add_argument("--local-weight", type=float, default=DEFAULTS["local_weight"],
                   help="scorer: weight of the local-match term (model.local_match: each feature-map cell's best match "
                        "anywhere in the other map) against the embedding cosine's (0: none)")
    p.add_argument("--supcon-weight", type=float, default=0.5, help="weight of the supervised contrastive term (with labels)")
    p.add_argument("--cache-scale", type=float, default=1.5, help="images are decoded once at this multiple of --size")
    p.add_argument("--shortlist", type=int, default=50, help="scorer: re-ranked shortlist size (as served: 50)")
    p.add_argument("--scorer-batch", type=int, default=32, help="scorer: queries per step (each with its shortlist)")
    p.add_argument("--pointwise-weight", type=float, default=0.2, help="scorer: weight of the calibrating BCE term")
    p.add_argument("--scorer-label-weight", type=float, default=0.5,
                   help="scorer, with --labels: weight of a listwise term that ranks the shortlist's photos of the "
                        "query's label above the others (keeps re-ranked results of the right kind)")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: all cores)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--out", default="models", help="output folder (written atomically at the end)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--init", default=None,
                   help="start from these weights (a models folder's weights.pt) instead of random ones; "
                        "with --epochs 0 only the scorer is trained")
    p.add_argument("--init-scorer", action="store_true",
                   help="with --init, start the scorer from those weights too (catalog adaptation) instead of an "
                        "untrained one (which orders a shortlist as the embedder does)")
    p.add_argument("--minutes", type=float, default=0,
                   help="training time budget (0: none): the embedder stops at --embedder-share of it, the scorer at "
                        "the rest; the learning-rate schedule follows the clock; the model trained so far is exported")
    p.add_argument("--embedder-share", type=float, default=0.8,
                   help="with --minutes: the embedder's share of the budget (the scorer's share includes embedding its gallery)")
    p.add_argument("--attr-weight", type=float, default=0.25,
                   help="weight of the supervised terms on the CSV's optional 'category' and 'colour' columns")
    p.add_argument("--progress-json", action="store_true",
                   help="also print one JSON object per log step on stdout ({\"event\": \"progress\", ...}) for a parent process")
    p.add_argument("--manifest-extra", default=None,
                   help="JSON file whose object is written into the manifest as 'adaptation' (base model, catalog, ...)")
    p.add_argument("--name", default=MODEL_NAME, help="model name in the manifest")
    p.add_argument("--version", default=MODEL_VERSION, help="model version in the manifest")
    p.add_argument("--measure-only", action="store_true",
                   help="allow the shared store catalog data set (measuring adaptation; such a model is never shipped, "
                        "and its manifest says so)")
    p.add_argument("--parent-pid", type=int, default=0,
                   help="stop (as SIGTERM would) when this process is gone: a service that started the run and died")
    p.add_argument("--nice", type=int, default=0, help="lower this process's CPU priority by N (a service's searches first)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the per-epoch checkpoint a killed run with the same options left next to --out")
    a = p.parse_args(argv)
    if a.size % 16 != 0 or a.size < 32:
        p.error("--size must be a multiple of 16 and at least 32")
    if a.batch_size < 2:
        p.error("--batch-size must be at least 2")
    if a.minutes < 0 or not 0 < a.embedder_share <= 1:
        p.error("--minutes must be >= 0 and --embedder-share in (0, 1]")
    if a.init_scorer and not a.init:
        p.error("--init-scorer needs --init")
    return a


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def hardware(device: torch.device) -> dict:
    if device.type == "cuda":
        return {"device": "cuda", "name": torch.cuda.get_device_name(device), "threads": torch.get_num_threads()}
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"device": "cpu", "name": name, "threads": torch.get_num_threads(), "cores": os.cpu_count()}


def lr_at(step: int, total: int, peak: float) -> float:
    warm = max(1, min(100, total // 20))
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))


class Budget:
    """When a stage stops: its step cap, and with --minutes its share of the clock. The stage's
    progress (0..1) is whichever is further along, and drives the learning-rate schedule, so a
    time-bounded run still warms up and decays to the end of its budget."""

    def __init__(self, total_steps: int, seconds: float, elapsed: float = 0.0):
        self.total, self.seconds = total_steps, seconds
        self.t0 = time.time() - elapsed

    def elapsed(self) -> float:
        return time.time() - self.t0

    def progress(self, step: int) -> float:
        p = step / max(1, self.total)
        if self.seconds > 0:
            p = max(p, self.elapsed() / self.seconds)
        return min(1.0, p)

    def done(self, step: int) -> bool:
        return step >= self.total or (self.seconds > 0 and self.elapsed() >= self.seconds)

    def lr(self, step: int, peak: float) -> float:
        if self.seconds <= 0:
            return lr_at(step, self.total, peak)
        # time-based: 5 % warmup (at least one step), then cosine decay over the rest of the budget
        p = self.progress(step)
        if p < 0.05:
            return peak * max(p / 0.05, 1 / max(1, self.total))
        t = (p - 0.05) / 0.95
        return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))


class Progress:
    """Human log lines, and with --progress-json one JSON object per line for a parent process:
    {"event": "progress", "stage", "step", "total", "elapsed", "loss", "progress"} where progress
    is the whole run's fraction (embedder share, then the scorer's)."""

    def __init__(self, args, log):
        self.args, self.log = args, log
        self.share = args.embedder_share if args.minutes > 0 else (
            1.0 if args.scorer_epochs == 0 else 0.85 if args.epochs > 0 else 0.0)

    def emit(self, event: str, **fields) -> None:
        if self.args.progress_json:
            print(json.dumps({"event": event, **fields}), flush=True)

    def step(self, stage: str, step: int, total: int, elapsed: float, loss: float, stage_progress: float) -> None:
        overall = self.share * stage_progress if stage == "embedder" else self.share + (1 - self.share) * stage_progress
        self.emit("progress", stage=stage, step=step, total=total, elapsed=round(elapsed, 1),
                  loss=round(loss, 5), progress=round(min(1.0, overall), 4))


def batches(n: int, b: int, g: torch.Generator):
    perm = torch.randperm(n, generator=g)
    steps = max(1, n // b)
    for s in range(steps):
        yield perm[s * b:(s + 1) * b]


@torch.no_grad()
def embed_all(embedder: torch.nn.Module, cache: torch.Tensor, size: int, bs: int = 256):
    embedder.eval()
    zs, fs = [], []
    for i in range(0, cache.shape[0], bs):
        z, f = embedder(clean_batch(cache[i:i + bs], size).contiguous(memory_format=CL))
        zs.append(z)
        fs.append(f)
    return torch.cat(zs), torch.cat(fs)


class Checkpoint:
    """Per-epoch training state next to --out, so a killed run can go on with --resume."""

    def __init__(self, path: str, signature: dict, resume: bool, log):
        self.path, self.signature, self.log = path, signature, log
        self.state = {}
        # --out's parent may not exist yet: found missing only at the first epoch's end, it lost that epoch.
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if resume and os.path.exists(path):
            state = torch.load(path, map_location="cpu")
            if state.get("signature") == signature:
                self.state = state
                log(f"resuming from {path}")
            else:
                log(f"not resuming: {path} was written with other options")

    def get(self, stage: str):
        return self.state.get(stage)

    def save(self, stage: str, value: dict) -> None:
        self.state[stage] = value
        self.state["signature"] = self.signature
        tmp = self.path + ".part"
        torch.save(self.state, tmp)
        os.replace(tmp, self.path)

    def remove(self) -> None:
        for p in (self.path, self.path + ".part"):
            if os.path.exists(p):
                os.remove(p)


def resume_stage(ckpt, name, model, opt, g, log, total):
    """Restores a stage from the checkpoint (weights, optimizer, RNG states); None when not saved."""
    saved = ckpt.get(name)
    if not saved:
        return None
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["opt"])
    g.set_state(saved["gen"])
    torch.set_rng_state(saved["rng"])
    log(f"{name} resumed at step {saved['step']}/{total}")
    return saved["steps"], saved["epochs"], saved["step"], saved["epoch"], saved.get("elapsed", 0.0)


def end_epoch(ckpt, name, model, opt, g, steps, epochs, ep_losses, step, epoch, elapsed) -> None:
    """Records the epoch's mean loss and checkpoints the stage (weights, optimizer, RNG states, and
    the clock it has used, so a resumed time-bounded run spends only what is left)."""
    if ep_losses:
        epochs.append({"epoch": epoch, "loss": round(float(np.mean(ep_losses)), 6), "steps": len(ep_losses)})
    ckpt.save(name, {"model": model.state_dict(), "opt": opt.state_dict(), "steps": steps, "epochs": epochs,
                     "step": step, "epoch": epoch, "gen": g.get_state(), "rng": torch.get_rng_state(),
                     "elapsed": elapsed})


def train_embedder(args, embedder, cache, labels, attrs, device, g, log, ckpt, progress):
    n = cache.shape[0]
    b = min(args.batch_size, n)
    per_epoch = max(1, n // b)
    total = args.epochs * per_epoch
    if args.max_steps:
        total = min(total, args.max_steps)
    opt = torch.optim.AdamW(embedder.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps, epochs = [], []
    step, epoch, elapsed = 0, 0, 0.0
    resumed = resume_stage(ckpt, "embedder", embedder, opt, g, log, total)
    if resumed:
        steps, epochs, step, epoch, elapsed = resumed
    budget = Budget(total, args.minutes * 60 * args.embedder_share, elapsed)
    step0 = step
    while not budget.done(step):
        embedder.train()
        ep_losses = []
        for idx in batches(n, b, g):
            if budget.done(step):
                break
            for group in opt.param_groups:
                group["lr"] = budget.lr(step, args.lr)
            imgs = cache[idx.to(cache.device)]
            first, second = ("classic", "photo") if args.augment == "mixed" else (args.augment, args.augment)
            v1 = augment(imgs, args.size, g, torch.ones(len(idx)), first)
            v2 = augment(imgs, args.size, g, 0.3 + 0.7 * torch.rand(len(idx), generator=g), second)
            z, _ = embedder(torch.cat([v1, v2], 0).contiguous(memory_format=CL))
            z1, z2 = z.split(len(idx))
            lab = labels[idx].to(device) if labels is not None else None
            loss = embedder_loss(z1, z2, lab, args.temperature, args.supcon_weight)
            for attr in attrs:  # catalog fields (category, colour): products that share one are pulled closer
                loss = loss + args.attr_weight * supcon(z1, z2, attr[idx].to(device), args.temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            lv = float(loss.detach())
            ep_losses.append(lv)
            steps.append({"step": step, "epoch": epoch + 1, "loss": round(lv, 6), "lr": round(opt.param_groups[0]["lr"], 8)})
            if step % args.log_every == 0 or budget.done(step) or step == 1:
                el = budget.elapsed()
                p = budget.progress(step)
                log(f"embedder step {step}/{total} epoch {epoch + 1} loss {lv:.4f} "
                    f"({2 * b * (step - step0) / max(1e-9, el - elapsed):.0f} views/s, {el:.0f}s, {100 * p:.0f}%)")
                progress.step("embedder", step, total, el, lv, p)
        epoch += 1
        end_epoch(ckpt, "embedder", embedder, opt, g, steps, epochs, ep_losses, step, epoch, budget.elapsed())
    return {"steps": steps, "epochs": epochs, "total": total, "batch": b, "seconds": round(budget.elapsed(), 1)}


def shortlists(zq: torch.Tensor, gallery_z: torch.Tensor, truth: torch.Tensor, k: int) -> torch.Tensor:
    """The embedder's top k gallery indices per query [M,k], the true match forced into the last
    slot where the embedder missed it (a shortlist without the answer teaches nothing)."""
    top = (zq @ gallery_z.t()).topk(k, dim=1).indices
    missed = ~(top == truth.view(-1, 1)).any(1)
    top[missed, -1] = truth[missed]
    return top


def train_scorer(args, embedder, scorer, cache, labels, device, g, log, ckpt, progress):
    """Listwise training on the embedder's real shortlists, as served: an augmented query against
    the clean gallery's top `--shortlist` under the frozen embedder. Softmax cross-entropy over the
    shortlist orders it; a weighted pointwise term keeps the probability calibrated; with labels and
    --scorer-label-weight, photos of the query's label are pulled above the rest (losses.shortlist_loss)."""
    n = cache.shape[0]
    b = min(args.scorer_batch, n)
    k = max(2, min(args.shortlist, n))
    per_epoch = max(1, n // b)
    total = args.scorer_epochs * per_epoch
    if args.max_steps:
        total = min(total, args.max_steps)
    embedder.eval()
    for p in embedder.parameters():
        p.requires_grad_(False)
    view = served(embedder, MEAN, STD, args.colour_weight).to(device)  # shortlists and base cosine as served
    if total == 0 or (args.minutes > 0 and args.embedder_share >= 1):  # nothing to train: no gallery to embed
        return {"steps": [], "epochs": [], "total": 0, "batch": b, "shortlist": k, "seconds": 0.0}
    t_gallery = time.time()  # embedding the gallery is part of the stage's time budget
    gallery_z, gallery_f = embed_all(view, cache, args.size)
    log(f"scorer: shortlists of {k} from {n} clean photos, {b} queries per step")
    opt = torch.optim.AdamW([p for p in scorer.parameters() if p.requires_grad], lr=args.lr,
                            weight_decay=args.weight_decay)
    steps, epochs = [], []
    step, epoch, elapsed = 0, 0, 0.0
    resumed = resume_stage(ckpt, "scorer", scorer, opt, g, log, total)
    if resumed:
        steps, epochs, step, epoch, elapsed = resumed
    budget = Budget(total, args.minutes * 60 * (1 - args.embedder_share), elapsed + time.time() - t_gallery)
    while not budget.done(step):
        scorer.train()
        ep_losses = []
        for idx in batches(n, b, g):
            if budget.done(step):
                break
            for group in opt.param_groups:
                group["lr"] = budget.lr(step, args.lr)
            m = len(idx)
            q = augment(cache[idx.to(cache.device)], args.size, g, 0.5 + 0.5 * torch.rand(m, generator=g),
                        "photo" if args.augment == "mixed" else args.augment)
            with torch.no_grad():
                zq, fq = view(q.contiguous(memory_format=CL))
            truth = idx.to(gallery_z.device)
            top = shortlists(zq, gallery_z, truth, k)
            y = (top == truth.view(-1, 1)).float()
            logits = scorer(fq.repeat_interleave(k, 0), gallery_f[top.flatten()],
                            zq.repeat_interleave(k, 0), gallery_z[top.flatten()]).view(m, k)
            same = None
            if labels is not None and args.scorer_label_weight > 0:
                lab = labels.to(top.device)
                same = (lab[top] == lab[truth].view(-1, 1)).float()
            loss = shortlist_loss(logits, y, same, args.pointwise_weight, args.scorer_label_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            lv = float(loss.detach())
            ep_losses.append(lv)
            with torch.no_grad():
                acc = float((logits.argmax(1) == y.argmax(1)).float().mean())
            steps.append({"step": step, "epoch": epoch + 1, "loss": round(lv, 6), "accuracy": round(acc, 4)})
            if step % args.log_every == 0 or budget.done(step) or step == 1:
                el = budget.elapsed()
                p = budget.progress(step)
                log(f"scorer step {step}/{total} epoch {epoch + 1} loss {lv:.4f} top1 {acc:.3f} ({el:.0f}s, {100 * p:.0f}%)")
                progress.step("scorer", step, total, el, lv, p)
        epoch += 1
        end_epoch(ckpt, "scorer", scorer, opt, g, steps, epochs, ep_losses, step, epoch, budget.elapsed())
    return {"steps": steps, "epochs": epochs, "total": total, "batch": b, "shortlist": k,
            "seconds": round(budget.elapsed(), 1)}


@torch.no_grad()
def evaluate(args, embedder, scorer, cache, labels, description, seed):
    """Shopper-style check: strongly augmented query vs the clean gallery of the same photos, with
    the embedding as served."""
    view = served(embedder, MEAN, STD, args.colour_weight).to(cache.device).eval()
    scorer.eval()
    g = torch.Generator().manual_seed(seed + 7919)
    gz, gf = embed_all(view, cache, args.size)
    qz, qf = [], []
    for i in range(0, cache.shape[0], 256):
        z, f = view(augment(cache[i:i + 256], args.size, g, torch.ones(min(256, cache.shape[0] - i))))
        qz.append(z)
        qf.append(f)
    qz, qf = torch.cat(qz), torch.cat(qf)
    n = cache.shape[0]
    k = min(10, n)
    sim = qz @ gz.t()
    top = sim.topk(k, dim=1).indices  # [n,k]
    target = torch.arange(n, device=top.device).view(-1, 1)
    hit = top == target
    res = {"data": description, "queries": n, "gallery": n,
           "recallAt1": round(float(hit[:, :1].any(1).float().mean()), 4),
           "recallAt5": round(float(hit[:, :min(5, k)].any(1).float().mean()), 4),
           f"recallAt{k}": round(float(hit.any(1).float().mean()), 4)}
    ks = min(args.shortlist, n)
    short = sim.topk(ks, dim=1).indices
    scores = torch.stack([torch.sigmoid(scorer(qf, gf[short[:, j]], qz, gz[short[:, j]])) for j in range(ks)], 1)  # [n,ks]
    rer = short.gather(1, scores.argsort(dim=1, descending=True))
    res["rerankShortlist"] = ks
    res["rerankedRecallAt1"] = round(float((rer[:, :1] == target).any(1).float().mean()), 4)
    res["rerankedRecallAt10"] = round(float((rer[:, :k] == target).any(1).float().mean()), 4)
    sh = short == target
    pos = scores[sh]
    neg = scores[~sh]
    res["scorerMeanPositive"] = round(float(pos.mean()), 4) if pos.numel() else None
    res["scorerMeanNegative"] = round(float(neg.mean()), 4) if neg.numel() else None
    if labels is not None:
        gsim = gz @ gz.t()
        gsim.fill_diagonal_(float("-inf"))
        nn1 = gsim.argmax(1)
        res["labelPrecisionAt1"] = round(float((labels[nn1.cpu()] == labels).float().mean()), 4)
    return res


def plot_losses(emb_hist, sc_hist, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=90)
    for ax, hist, title in ((axes[0], emb_hist, "embedder (NT-Xent + SupCon)"), (axes[1], sc_hist, "scorer (BCE)")):
        xs = [s["step"] for s in hist["steps"]]
        ys = [s["loss"] for s in hist["steps"]]
        if xs:
            ax.plot(xs, ys, lw=0.6, alpha=0.5, label="step")
            ends, acc = [], 0
            for e in hist["epochs"]:
                acc += e["steps"]
                ends.append(acc)
            ax.plot(ends, [e["loss"] for e in hist["epochs"]], "o-", ms=3, label="epoch mean")
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def init_model(args):
    """The --init model's folder and manifest, where it has one: this model's lineage."""
    if not args.init:
        return None
    folder = os.path.dirname(os.path.abspath(args.init))
    path = os.path.join(folder, "manifest.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return {"dir": folder, "manifest": json.load(fh)}


def final_loss(hist) -> float:
    if hist["epochs"]:
        return hist["epochs"][-1]["loss"]
    return 0.0


def publish(tmp: str, out: str) -> None:
    """Move a finished set from tmp into out; manifest.json last so readers never see a half set."""
    os.makedirs(out, exist_ok=True)
    names = sorted(os.listdir(tmp), key=lambda n: n == "manifest.json")
    for name in names:
        src, dst = os.path.join(tmp, name), os.path.join(out, name)
        if os.path.isdir(src):
            if os.path.isdir(dst):
                shutil.rmtree(dst)
            os.replace(src, dst)
        else:
            os.replace(src, dst)
    os.rmdir(tmp)


def watch_parent(pid: int) -> None:
    """A run started by a service must not outlive it: checks every few seconds that `pid` exists
    and otherwise stops this run through the SIGTERM path (the checkpoint stays for --resume)."""
    import threading

    def loop():
        while True:
            time.sleep(3)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            except PermissionError:  # exists, owned by someone else
                pass

    threading.Thread(target=loop, daemon=True).start()


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    if args.parent_pid:
        watch_parent(args.parent_pid)
    t_start = time.time()
    log = lambda msg: print(f"[train {time.time() - t_start:6.0f}s] {msg}", flush=True)  # noqa: E731
    for sig in (signal.SIGTERM, signal.SIGHUP):  # say so in the log when something stops the run
        signal.signal(sig, lambda s, _f: (log(f"stopped by signal {s}; rerun with --resume to continue"), sys.exit(128 + s)))
    torch.set_num_threads(args.threads if args.threads > 0 else max(1, os.cpu_count() or 1))
    seed_everything(args.seed)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    hw = hardware(device)
    log(f"device {hw['device']} ({hw['name']}), {hw['threads']} threads, torch {torch.__version__}")

    datamod.ALLOW_STORE_CATALOG = args.measure_only
    progress = Progress(args, log)
    if args.labels:
        imageset = datamod.read_labels(args.images_dir, args.labels, args.split)
    else:
        imageset = datamod.scan_images(args.images_dir)
    n = len(imageset.paths)
    if n < 2:
        sys.exit(f"training: need at least 2 images, found {n} ({imageset.description})")
    labels = imageset.label_ids()
    attrs = imageset.attr_ids() if args.attr_weight > 0 else []
    log(f"data: {imageset.description}")
    side = max(args.size, int(round(args.size * args.cache_scale)))
    t0 = time.time()
    cache = datamod.build_cache(imageset.paths, side).to(device)
    log(f"decoded {n} images into a {tuple(cache.shape)} uint8 cache in {time.time() - t0:.1f}s")
    if args.synthetic:
        t0 = time.time()
        cache = torch.cat([cache, synthetic_cache(args.synthetic, side, args.seed).to(device)])
        if labels is not None:  # each synthetic product is its own instance: a label no other image has
            labels = torch.cat([labels, -(n + 1 + torch.arange(args.synthetic))])
        log(f"added {args.synthetic} synthetic products in {time.time() - t0:.1f}s")

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    embedder = Embedder(args.dim, args.width, args.channels).to(device).to(memory_format=CL)
    scorer = Scorer(args.channels, local_weight=args.local_weight).to(device).to(memory_format=CL)
    log(f"params: embedder {count_params(embedder)}, scorer {count_params(scorer)}")
    if args.init:
        init = torch.load(args.init, map_location="cpu")
        embedder.load_state_dict(init["embedder"])
        log(f"embedder weights from {args.init}")
        if args.init_scorer:
            scorer.load_weights(init["scorer"])
            log(f"scorer weights from {args.init}")

    out = os.path.abspath(args.out)
    signature = {k: v for k, v in vars(args).items()
                 if k not in ("resume", "threads", "log_every", "device", "eval_split", "parent_pid", "nice", "progress_json")}
    signature["images"] = n
    ckpt = Checkpoint(os.path.join(os.path.dirname(out), "." + os.path.basename(out) + ".checkpoint.pt"),
                      signature, args.resume, log)
    t_train = time.time()
    emb_hist = train_embedder(args, embedder, cache, labels, attrs, device, g, log, ckpt, progress)
    sc_hist = train_scorer(args, embedder, scorer, cache, labels, device, g, log, ckpt, progress)
    train_seconds = time.time() - t_train

    evaluation = None
    if args.eval_split and args.eval_split.lower() != "none":
        try:
            if args.labels and args.split != args.eval_split:
                evset = datamod.read_labels(args.images_dir, args.labels, args.eval_split)
                if not evset.paths or args.split.lower() == "all":
                    evset = None
            else:
                evset = None
            if evset is None:  # no held-out split: check on (up to 512 of) the training photos
                evset = datamod.ImageSet(imageset.paths[:512], imageset.labels[:512] if imageset.labels else None,
                                         f"{min(n, 512)} training images (no held-out split)")
            evcache = datamod.build_cache(evset.paths, side, log_every=0).to(device)
            evlabels = evset.label_ids()
            if evlabels is not None and labels is not None:
                # map eval label names onto the same ids as training where possible
                names = {nm: i for i, nm in enumerate(imageset.label_names)}
                evlabels = torch.tensor([names.get(l, -(i + 1)) if l else -(i + 1) for i, l in enumerate(evset.labels)])
            evaluation = evaluate(args, embedder, scorer, evcache, evlabels, evset.description, args.seed)
            log(f"evaluation: {json.dumps(evaluation)}")
        except Exception as exc:  # the check is informative only; never lose a trained model over it
            log(f"evaluation skipped: {exc!r}")

    out = os.path.abspath(args.out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".tmp-", dir=parent)
    try:
        files = export_onnx(embedder, scorer, args.size, tmp, args.colour_weight)
        # PyTorch weights, for fine-tuning from this model (--init, catalog adaptation); the
        # service itself reads only the ONNX files.
        weights = os.path.join(tmp, "weights.pt")
        torch.save({"embedder": embedder.state_dict(), "scorer": scorer.state_dict(),
                    "config": {"dim": args.dim, "width": args.width, "channels": args.channels, "size": args.size,
                               "colour_weight": args.colour_weight, "local_weight": args.local_weight}}, weights)
        write_parity(embedder, scorer, args.size, tmp, args.colour_weight)
        c, fh, fw = args.channels, args.size // 16, args.size // 16
        base = init_model(args)
        untrained = not emb_hist["steps"] and not sc_hist["steps"]
        if base and untrained and all(os.path.isfile(os.path.join(base["dir"], n)) for n in ("loss.json", "loss.png")):
            # re-exported weights (e.g. a new --colour-weight): the curves that made them are the base's
            for name in ("loss.json", "loss.png"):
                shutil.copy(os.path.join(base["dir"], name), os.path.join(tmp, name))
        else:
            with open(os.path.join(tmp, "loss.json"), "w") as fhd:
                json.dump({"embedder": emb_hist, "scorer": sc_hist}, fhd)
            plot_losses(emb_hist, sc_hist, os.path.join(tmp, "loss.png"))
        S = args.size
        D = args.dim + (colour_dim() if args.colour_weight > 0 else 0)
        manifest = {
            "name": args.name,
            "version": args.version,
            "createdAt": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "input": {"size": S, "channels": "RGB", "layout": "NCHW", "dtype": "float32",
                      "resize": "fill", "filter": "bilinear", "alpha": "flatten-white", "orientation": "exif",
                      "scale": SCALE, "mean": list(MEAN), "std": list(STD)},
            "embedding": {"dim": D, "metric": "l2", "normalized": True,
                          **({"colour": {"weight": args.colour_weight, "bins": colour_dim()}} if args.colour_weight > 0 else {})},
            "features": {"shape": [c, fh, fw]},
            "files": {
                "embedder": {"path": "embedder.onnx", "sha256": sha256_file(files["embedder"]),
                             "bytes": os.path.getsize(files["embedder"]),
                             "inputs": [{"name": "image", "shape": ["batch", 3, S, S]}],
                             "outputs": [{"name": "embedding", "shape": ["batch", D]},
                                         {"name": "features", "shape": ["batch", c, fh, fw]}]},
                "scorer": {"path": "scorer.onnx", "sha256": sha256_file(files["scorer"]),
                           "bytes": os.path.getsize(files["scorer"]),
                           "inputs": [{"name": name, "shape": ["batch", c, fh, fw] if "features" in name else ["batch", D]}
                                      for name in SCORER_INPUTS],
                           "outputs": [{"name": "score", "shape": ["batch"]}]},
            },
            "parity": "parity/parity.json",
            "weights": {"path": "weights.pt", "sha256": sha256_file(weights), "bytes": os.path.getsize(weights),
                        "format": "torch.save of state dicts {embedder, scorer, config}; for training only"},
            "training": {
                "data": imageset.description,
                "synthetic": args.synthetic,
                "labels": labels is not None,
                "fields": list(imageset.attrs) if attrs else [],
                "attrWeight": args.attr_weight if attrs else 0,
                "minutes": args.minutes, "embedderShare": args.embedder_share if args.minutes > 0 else None,
                "embedderSeconds": emb_hist["seconds"], "scorerSeconds": sc_hist["seconds"],
                "initScorer": args.init_scorer,
                "measureOnly": args.measure_only,
                "epochs": args.epochs, "scorerEpochs": args.scorer_epochs,
                "steps": len(emb_hist["steps"]), "scorerSteps": len(sc_hist["steps"]),
                "maxSteps": args.max_steps,
                "scorerObjective": "listwise over the served embedding's shortlist, residual on its cosine",
                "scorerShortlist": sc_hist["shortlist"],
                "scorerLabelWeight": args.scorer_label_weight if labels is not None else 0,
                "scorerLocalWeight": args.local_weight,
                "batchSize": emb_hist["batch"], "lr": args.lr, "seed": args.seed,
                "size": S, "dim": D, "temperature": args.temperature, "augment": args.augment,
                "supconWeight": args.supcon_weight if labels is not None else 0,
                "finalLoss": {"embedder": final_loss(emb_hist), "scorer": final_loss(sc_hist)},
                "seconds": round(time.time() - t_start, 1), "trainSeconds": round(train_seconds, 1),
                "hardware": hw, "torch": torch.__version__,
                "params": {"embedder": count_params(embedder), "scorer": count_params(scorer)},
                "lossCurve": "loss.json", "lossPlot": "loss.png",
                "opset": 17,
                "init": args.init and os.path.relpath(args.init),
                "command": "python -m training.train " + " ".join(a for a in (sys.argv[1:] if argv is None else argv) if a != "--resume"),
            },
        }
        if base:
            manifest["training"]["base"] = {"version": base["manifest"]["version"], "training": base["manifest"].get("training")}
        if evaluation is not None:
            manifest["evaluation"] = evaluation
        if args.manifest_extra:
            with open(args.manifest_extra, encoding="utf-8") as fhd:
                manifest["adaptation"] = json.load(fhd)
        with open(os.path.join(tmp, "manifest.json"), "w") as fhd:
            json.dump(manifest, fhd, indent=2)
            fhd.write("\n")
        publish(tmp, out)
        ckpt.remove()
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    progress.emit("done", out=out, seconds=manifest["training"]["seconds"],
                  embedderSteps=len(emb_hist["steps"]), scorerSteps=len(sc_hist["steps"]))
    log(f"wrote {out}: embedder.onnx {manifest['files']['embedder']['bytes']} B, scorer.onnx "
        f"{manifest['files']['scorer']['bytes']} B, features {manifest['features']['shape']}, "
        f"final loss embedder {manifest['training']['finalLoss']['embedder']} scorer {manifest['training']['finalLoss']['scorer']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
