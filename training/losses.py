"""Contrastive losses on L2-normalised embeddings."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent: each view must pick its twin among all other 2B-1 views of the batch."""
    b = z1.shape[0]
    z = torch.cat([z1, z2], 0)
    sim = z @ z.t() / temperature
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(z.device)
    return F.cross_entropy(sim, target)


def supcon(z1: torch.Tensor, z2: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al.): every same-label view is a positive."""
    b = z1.shape[0]
    z = torch.cat([z1, z2], 0)
    lab = torch.cat([labels, labels], 0).to(z.device)
    eye = torch.eye(2 * b, dtype=torch.bool, device=z.device)
    sim = (z @ z.t() / temperature).masked_fill(eye, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (lab.view(-1, 1) == lab.view(1, -1)) & ~eye
    n_pos = pos.sum(1).clamp(min=1)
    return -(log_prob.masked_fill(~pos, 0).sum(1) / n_pos).mean()


def embedder_loss(z1, z2, labels: Optional[torch.Tensor], temperature: float, supcon_weight: float):
    loss = nt_xent(z1, z2, temperature)
    if labels is not None and supcon_weight > 0:
        loss = loss + supcon_weight * supcon(z1, z2, labels, temperature)
    return loss


def shortlist_loss(logits: torch.Tensor, y: torch.Tensor, same: Optional[torch.Tensor], pointwise_weight: float,
                   label_weight: float) -> torch.Tensor:
    """The scorer's objective over shortlists, logits [M,K]: softmax cross-entropy towards the true photo
    (y, one-hot), a weighted BCE that keeps the probability calibrated, and with `same` (1 where a
    photo has the query's label, the true one included) a listwise target spread evenly over those
    photos: the first term alone says nothing about the order of the wrong products, so re-ranking
    could shuffle the right kinds out of the top 10."""
    k = logits.shape[1]
    loss = F.cross_entropy(logits, y.argmax(1))
    if same is not None and label_weight > 0:
        loss = loss - label_weight * (same / same.sum(1, keepdim=True) * F.log_softmax(logits, 1)).sum(1).mean()
    pointwise = F.binary_cross_entropy_with_logits(logits, y, pos_weight=torch.tensor(float(k - 1), device=y.device))
    return loss + pointwise_weight * pointwise
