"""PyTorch reference for bench/compare.mjs: the Contextual Retrieval models, written from the
equations in docs/research/compositional-attention.md (not copied from the official code).

Modes `check` and `time`: see harness.py.

Conventions shared with our TypeScript side: float32 throughout, kernels exported [in, out]
(nn.Linear stores [out, in]), the diagonal of the search scores masked by adding -1e9, Adam
with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8), L1 loss as the mean absolute error.
"""
import math
import sys

import numpy as np
import torch
from torch import nn

import harness  # bench/reference/harness.py, beside this script

NEGATIVE_INFINITY_LOGIT = -1e9


def mlp(inputs, hidden, outputs):
    """Linear -> ReLU -> Linear, keys `<name>.0` and `<name>.2` like the official state_dict."""
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


def diagonal_mask(tokens):
    return torch.eye(tokens) * NEGATIVE_INFINITY_LOGIT


class MultiHeadAttention(nn.Module):
    """Q, K, V = x Wq, x Wk, x Wv; A_h = softmax(Q_h K_h^T / sqrt(d) + mask); out = [A_h V_h.., x Win] Wo."""

    def __init__(self, dim, heads, concat):
        super().__init__()
        self.heads, self.head_dim, self.concat = heads, dim // heads, concat
        self.query_net = nn.Linear(dim, dim)
        self.key_net = nn.Linear(dim, dim)
        self.value_net = nn.Linear(dim, dim)
        if concat:
            self.in_ = nn.Linear(dim, self.head_dim)
        self.out_proj = nn.Linear(dim + (self.head_dim if concat else 0), dim)

    def forward(self, x):
        b, n, _ = x.shape
        split = lambda t: t.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # [B, H, N, d]
        q, k, v = split(self.query_net(x)), split(self.key_net(x)), split(self.value_net(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + diagonal_mask(n)
        attention = torch.softmax(scores, dim=-1)
        merged = (attention @ v).transpose(1, 2).reshape(b, n, -1)
        if self.concat:
            merged = torch.cat([merged, self.in_(x)], dim=-1)
        return self.out_proj(merged)


class CompositionalAttention(nn.Module):
    """S searches A_s, R shared retrievals V_r, all pairings O[s,r] = A_s V_r, per token and search
    a softmax over r of q_s . (O[s,r] Wk'), h_s = sum_r alpha[s,r] O[s,r], out = [h.., x Win] Wo."""

    def __init__(self, dim, searches, retrievals, concat):
        super().__init__()
        self.S, self.R, self.concat = searches, retrievals, concat
        self.ds, self.dv = dim // searches, dim // retrievals
        self.query_net = nn.Linear(dim, dim)
        self.key_net = nn.Linear(dim, dim)
        self.value_net = nn.Linear(dim, dim)
        self.value_query = nn.Linear(dim, dim)
        self.value_key = nn.Linear(self.dv, self.ds)
        if concat:
            self.in_ = nn.Linear(dim, self.dv)
        self.out_proj = nn.Linear((searches + (1 if concat else 0)) * self.dv, dim)

    def forward(self, x):
        b, n, _ = x.shape
        S, R, ds, dv = self.S, self.R, self.ds, self.dv
        q = self.query_net(x).view(b, n, S, ds).transpose(1, 2)
        k = self.key_net(x).view(b, n, S, ds).transpose(1, 2)
        search = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(ds) + diagonal_mask(n), dim=-1)  # [B,S,N,N]
        v = self.value_net(x).view(b, 1, n, R * dv)
        pairings = (search @ v).view(b, S, n, R, dv).transpose(1, 2)  # [B, N, S, R, dv]
        retrieval_query = self.value_query(x).view(b, n, S, 1, ds) / math.sqrt(ds)
        retrieval_keys = self.value_key(pairings)  # [B, N, S, R, ds]
        scores = (retrieval_query * retrieval_keys).sum(-1)  # [B, N, S, R]
        selection = torch.softmax(scores, dim=-1)
        merged = (selection.unsqueeze(-1) * pairings).sum(-2).reshape(b, n, S * dv)
        if self.concat:
            merged = torch.cat([merged, self.in_(x)], dim=-1)
        return self.out_proj(merged)


class RetrievalModel(nn.Module):
    def __init__(self, features, dim, attention):
        super().__init__()
        self.encoder = mlp(features, dim, dim)
        self.model = attention
        self.decoder = mlp(dim, dim, 1)

    def forward(self, inputs):
        return self.decoder(self.model(self.encoder(inputs))).squeeze(-1)


def build_model(workload, features):
    model = workload["model"]
    if model["name"] == "multi-head-attention":
        attention = MultiHeadAttention(model["dim"], model["heads"], model["concat"])
    elif model["name"] == "compositional-attention":
        attention = CompositionalAttention(model["dim"], model["searches"], model["retrievals"], model["concat"])
    else:
        raise SystemExit(f"bench/reference/retrieval.py: no reference for model '{model['name']}'")
    return RetrievalModel(features, model["dim"], attention)


def train_tuples(searches, retrievals):
    """The OOD split's training tuples: even-indexed, topped up from the odd ones to 80%."""
    tuples = [[(code // retrievals ** (searches - 1 - s)) % retrievals for s in range(searches)]
              for code in range(retrievals ** searches)]
    train, test = tuples[0::2], tuples[1::2]
    while len(train) < 0.8 * len(tuples) and len(test) > 1:
        train.append(test.pop(0))
    return np.array(train)


class RetrievalBatches:
    """y_i = sum_s c_s x_{j_s(i)}[vs + r_s(i)], j_s(i) the nearest other token on search feature s."""

    def __init__(self, task, seed):
        self.n, self.vs, self.vp = task["seqLen"], task["searchFeatures"], task["retrievalFeatures"]
        self.rng = np.random.default_rng(seed)
        self.tuples = train_tuples(self.vs, self.vp)
        self.coefficients = self.rng.uniform(-1, 1, self.vs).astype(np.float32)
        self.features = self.vs + self.vp + self.vs * self.vp

    def batch(self, size):
        n, vs, vp = self.n, self.vs, self.vp
        x = self.rng.standard_normal((size, n, vs + vp), dtype=np.float32)
        chosen = self.tuples[self.rng.integers(len(self.tuples), size=(size, n))]  # [B, N, vs]
        context = np.zeros((size, n, vs, vp), dtype=np.float32)
        np.put_along_axis(context, chosen[..., None], 1.0, axis=-1)
        search = x[..., :vs]
        distance = np.abs(search[:, :, None, :] - search[:, None, :, :])  # [B, i, j, s]
        distance[:, np.arange(n), np.arange(n), :] = np.inf
        nearest = distance.argmin(axis=2)  # [B, N, vs]
        rows = np.arange(size)[:, None, None]
        retrieved = x[rows, nearest, vs + chosen]  # [B, N, vs]
        targets = (retrieved * self.coefficients).sum(-1, dtype=np.float32)
        inputs = np.concatenate([x, context.reshape(size, n, vs * vp)], axis=-1)
        return torch.from_numpy(inputs), torch.from_numpy(targets)


def l1(prediction, targets):
    return (prediction - targets).abs().mean()


class Reference:
    script = "bench/reference/retrieval.py"
    loss = staticmethod(l1)

    @staticmethod
    def model_for_check(manifest):
        return build_model(manifest["workload"], manifest["features"])

    @staticmethod
    def model_and_batches(workload, seed, _exchange):
        batches = RetrievalBatches(workload["task"], seed)
        return build_model(workload, batches.features), batches


if __name__ == "__main__":
    sys.exit(harness.main(__doc__.splitlines()[0], Reference))
