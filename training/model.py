"""The Siamese network: one embedder branch (CNN -> feature map -> embedding) and a pairwise scorer."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def head_embedding(head: nn.Module, f: torch.Tensor) -> torch.Tensor:
    """Feature map [B,C,H,W] -> avg+max pooling -> head -> L2-normalised embedding [B,D]."""
    pooled = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], 1)
    return F.normalize(head(pooled), dim=1)


class Block(nn.Module):
    """Residual basic block (two 3x3 convs), optionally downsampling."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cout, 3, stride), conv_bn(cout, cout, 3, 1, act=False))
        self.short = nn.Identity() if (cin == cout and stride == 1) else conv_bn(cin, cout, 1, stride, act=False)

    def forward(self, x):
        return F.relu(self.body(x) + self.short(x))


class Embedder(nn.Module):
    """image [B,3,S,S] -> (embedding [B,D] L2-normalised, features [B,C,S/16,S/16])."""

    def __init__(self, dim: int = 128, width: int = 32, channels: int = 128):
        super().__init__()
        w = width
        # Cheap at high resolution (that is where CPU time goes), deeper at low resolution.
        self.stem = conv_bn(3, 24, 3, 2)  # /2
        self.stages = nn.Sequential(
            Block(24, w, 2),  # /4
            Block(w, 2 * w, 2), Block(2 * w, 2 * w),  # /8
            Block(2 * w, channels, 2), Block(channels, channels), Block(channels, channels),  # /16
        )
        self.channels = channels
        self.head = nn.Sequential(nn.Linear(2 * channels, 256), nn.ReLU(inplace=True), nn.Linear(256, dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))

    def embed_features(self, f: torch.Tensor) -> torch.Tensor:
        return head_embedding(self.head, f)

    def forward(self, x: torch.Tensor):
        f = self.features(x)
        return self.embed_features(f), f


def local_match(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Feature maps [B,C,H,W] x2 -> [B]: each cell's best cosine among the other map's cells, averaged
    over the cells of both maps (both ways). Unlike a comparison of aligned positions it does not care
    where a part of the product lies, so a crop, a shift, a flip or a new background leave the cells
    that show the product matched."""
    qa, qb = F.normalize(a.flatten(2), dim=1), F.normalize(b.flatten(2), dim=1)
    s = torch.bmm(qa.transpose(1, 2), qb)  # [B, cells of a, cells of b]
    return 0.5 * (s.amax(2).mean(1) + s.amax(1).mean(1))


# Where the local term adds nothing to the logit: between the mean local match of true pairs (0.82)
# and of the wrong photos in their shortlists (0.67) on 2.5.0's validation check. It leaves the
# order alone and keeps the score a probability: without it the term pushes every logit past 30,
# and the sigmoid says 1.0 for every candidate.
LOCAL_CENTRE = 0.75


class Scorer(nn.Module):
    """(query features, candidate features) [B,C,H,W] x2 and their served embeddings [B,D] x2 -> match
    logit [B] (sigmoid in the export).

    A residual re-ranker: the logit is the cosine similarity of the two served embeddings (the very
    score the ANN shortlist is ranked by, colour term included), scaled and shifted by two learned
    numbers, plus a correction from a small convolutional comparison of the two feature maps. The
    correction's last layer starts at zero, so an untrained scorer orders a shortlist exactly as the
    search did; training can only move it where the spatial comparison knows better. (Scorers before
    2.4.0 recomputed the network's cosine from the feature maps, without colour, and so re-ranking
    undid part of what the colour term had found.)

    Since 2.6.0 the logit also adds local_weight x 10 x (local_match(a, b) - LOCAL_CENTRE), a fixed
    (untrained) comparison of the two maps' cells wherever they lie: 10 is the cosine's initial scale,
    so local_weight is the local term's weight against the embedding's.
    """

    def __init__(self, channels: int = 128, hidden: int = 128, local_weight: float = 0.0):
        super().__init__()
        self.local_weight = float(local_weight)
        self.reduce = conv_bn(4 * channels, hidden, 1)
        self.convs = nn.Sequential(conv_bn(hidden, hidden, 3), conv_bn(hidden, hidden, 3))
        self.mlp = nn.Sequential(nn.Linear(2 * hidden + 2 * channels, 128), nn.ReLU(inplace=True), nn.Linear(128, 1))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        # logit = scale * (cos - shift) + correction; trained by a pointwise term for calibration
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.shift = nn.Parameter(torch.tensor(0.8))

    def load_weights(self, state: dict) -> None:
        """Loads saved weights; those of older scorers carry a frozen copy of the embedder's head
        (their cosine came from the feature maps), which the served embedding inputs replace."""
        self.load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")})

    def correction(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = torch.cat([a, b, (a - b).abs(), a * b], 1)
        x = self.convs(self.reduce(x))
        ga, gb = F.normalize(a.mean(dim=(2, 3)), dim=1), F.normalize(b.mean(dim=(2, 3)), dim=1)
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3)), ga * gb, (ga - gb).abs()], 1)
        return self.mlp(pooled).squeeze(1)

    def forward(self, a: torch.Tensor, b: torch.Tensor, za: torch.Tensor, zb: torch.Tensor) -> torch.Tensor:
        cos = (za * zb).sum(1)
        logit = self.scale * (cos - self.shift) + self.correction(a, b)
        if self.local_weight:
            logit = logit + self.local_weight * 10.0 * (local_match(a, b) - LOCAL_CENTRE)
        return logit


class ScorerProbability(nn.Module):
    """Export wrapper: probability 0..1 instead of a logit."""

    def __init__(self, scorer: Scorer):
        super().__init__()
        self.scorer = scorer

    def forward(self, query_features, candidate_features, query_embedding, candidate_embedding):
        return torch.sigmoid(self.scorer(query_features, candidate_features, query_embedding, candidate_embedding))


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
