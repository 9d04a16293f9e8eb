"""PyTorch reference for bench/compare.mjs: the amortized posterior network (transformer encoder,
diagonal Gaussian family) trained with the forward KL on linear regression, written from our
src/core/posterior/ (model.ts, encoders.ts, families.ts, objectives.ts, dataSets.ts).

Modes `check` and `time`: see harness.py.

Conventions shared with our TypeScript side: float32 throughout, kernels exported [in, out]
(nn.Linear stores [out, in]), inputs [B, N, tokenDim + 1] with the presence flag (1 = point,
0 = padding) as the last feature, padded keys masked by adding -1e9 to the scores, Adam with
PyTorch's defaults (betas 0.9, 0.999, eps 1e-8), loss = mean over data sets of
-log q(theta_true | D).
"""
import math
import sys

import numpy as np
import torch
from torch import nn

import harness  # bench/reference/harness.py, beside this script

NEGATIVE_INFINITY_LOGIT = -1e9
LOG_VARIANCE_RANGE = (-30.0, 20.0)  # families.ts clamps like the official code
NOISE_VARIANCE = 0.25  # models/parametricFunction.ts
LOG_2PI = math.log(2 * math.pi)


class MaskedSelfAttention(nn.Module):
    """Queries (by default every token) attend to the tokens of x where the key mask is 1."""

    def __init__(self, dim, heads):
        super().__init__()
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, key_mask, queries):
        b, t, _ = x.shape
        tq = queries.shape[1]
        split = lambda u, n: u.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # [B, H, n, d]
        # Ours scales the queries, not the scores: same order of float operations.
        q = split(self.query(queries) * (1 / math.sqrt(self.head_dim)), tq)
        k, v = split(self.key(x), t), split(self.value(x), t)
        padding = ((1 - key_mask) * NEGATIVE_INFINITY_LOGIT).view(b, 1, 1, t)
        attention = torch.softmax(q @ k.transpose(-1, -2) + padding, dim=-1)
        return self.out((attention @ v).transpose(1, 2).reshape(b, tq, self.dim))


class TransformerLayer(nn.Module):
    """Pre-norm: x + attention(norm1(x)), then + linear2(relu(linear1(norm2(.)))); no dropout."""

    def __init__(self, dim, heads, feed_forward):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attention = MaskedSelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.linear1 = nn.Linear(dim, feed_forward)
        self.linear2 = nn.Linear(feed_forward, dim)

    def forward(self, x, key_mask, query_count=None):
        """With query_count, only the first query_count tokens' outputs (as ours does for the last layer)."""
        normed = self.norm1(x)
        residual = x if query_count is None else x[:, :query_count]
        queries = normed if query_count is None else normed[:, :query_count]
        attended = residual + self.attention(normed, key_mask, queries)
        return attended + self.linear2(torch.relu(self.linear1(self.norm2(attended))))


class TransformerEncoder(nn.Module):
    """Linear embedding, learned CLS token first, no positional encoding; the CLS output, normed."""

    def __init__(self, token_dim, dim, layers, heads, feed_forward):
        super().__init__()
        self.dim = dim
        self.embed = nn.Linear(token_dim, dim)
        bound = math.sqrt(6 / (1 + dim))  # ours: Xavier-uniform like a (1, 1, dim) parameter
        self.cls = nn.Parameter(torch.empty(dim).uniform_(-bound, bound))
        self.layers = nn.ModuleList([TransformerLayer(dim, heads, feed_forward) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, tokens, mask):
        b = tokens.shape[0]
        x = torch.cat([self.cls.view(1, 1, self.dim).expand(b, 1, self.dim), self.embed(tokens)], dim=1)
        key_mask = torch.cat([torch.ones(b, 1), mask], dim=1)
        for l, layer in enumerate(self.layers):
            # Only the CLS output is read: the last layer computes its row alone, like ours.
            x = layer(x, key_mask, 1 if l + 1 == len(self.layers) else None)
        return self.norm(x[:, 0])


class AmortizedPosterior(nn.Module):
    """inputs [B, N, tokenDim + 1] -> condition [B, 2P] (mean, log-variance); with set_size the head
    also reads (log n - centre) / halfRange, log n scaled to [-1, 1] over contextMin..contextMax."""

    def __init__(self, token_dim, theta_dim, options, sizes):
        super().__init__()
        self.encoder = TransformerEncoder(token_dim, options["dim"], options["layers"], options["heads"], options["feedForward"])
        self.set_size = None
        if options["setSize"]:
            lo, hi = math.log(sizes["contextMin"]), math.log(sizes["contextMax"])
            self.set_size = ((lo + hi) / 2, max((hi - lo) / 2, 0.5))
        self.head = nn.Linear(options["dim"] + (1 if self.set_size else 0), 2 * theta_dim)

    def forward(self, inputs):
        tokens, mask = inputs[..., :-1], inputs[..., -1]
        summary = self.encoder(tokens, mask)
        if self.set_size is None:
            return self.head(summary)
        centre, half_range = self.set_size
        count = mask.sum(1, keepdim=True).clamp(min=1)
        return self.head(torch.cat([summary, (count.log() - centre) / half_range], dim=1))


def negative_log_posterior(condition, theta):
    """-log q(theta | c) per data set for the diagonal Gaussian q = N(mean, diag(exp(logVariance)))."""
    dim = theta.shape[-1]
    mean, log_variance = condition.split([dim, dim], dim=-1)
    log_variance = log_variance.clamp(*LOG_VARIANCE_RANGE)
    standardised = (theta - mean) * torch.exp(log_variance * -0.5)
    log_q = (standardised.square().sum(-1) * -0.5 - dim / 2 * LOG_2PI) - log_variance.sum(-1) * 0.5
    return -log_q


def forward_kl(condition, theta):
    return negative_log_posterior(condition, theta).mean()


def check_workload(workload):
    """This reference covers one configuration; anything else would compare different computations."""
    task, model, objective = workload["task"], workload["model"], workload.get("objective", {})
    wanted = [
        (task.get("name"), "posterior-linear-regression"), (model["name"], "amortized-posterior"),
        (model["encoder"], "transformer"), (model["family"], "gaussian"), (objective.get("name"), "forward-kl"),
    ]
    for got, expected in wanted:
        if got != expected:
            raise SystemExit(f"bench/reference/posterior.py: covers {expected}, got {got!r}")


def build_model(workload):
    check_workload(workload)
    dim = workload["task"]["dim"]
    # Linear regression: tokens [x, y], theta = [w (dim), b].
    return AmortizedPosterior(dim + 1, dim + 1, workload["model"], workload["task"])


class LinearRegressionBatches:
    """theta ~ N(0, I), n ~ U{contextMin..contextMax}, x ~ N(0, I), y = w.x + b + eps, eps ~ N(0, 0.25);
    padded to contextMax with zeros, presence flag last. The held-out points are not drawn: the
    forward-KL loss does not read them (ours draws them for the evaluation metrics)."""

    def __init__(self, task, seed):
        self.dim, self.low, self.high = task["dim"], task["contextMin"], task["contextMax"]
        self.rng = np.random.default_rng(seed)

    def batch(self, size):
        d, capacity = self.dim, self.high
        theta = self.rng.standard_normal((size, d + 1), dtype=np.float32)
        n = self.rng.integers(self.low, self.high + 1, size=size)
        x = self.rng.standard_normal((size, capacity, d), dtype=np.float32)
        noise = self.rng.standard_normal((size, capacity), dtype=np.float32)
        y = (x * theta[:, None, :d]).sum(-1) + theta[:, d:] + np.float32(math.sqrt(NOISE_VARIANCE)) * noise
        present = (np.arange(capacity) < n[:, None]).astype(np.float32)  # valid points first
        inputs = np.concatenate([x, y[..., None], present[..., None]], axis=-1) * present[..., None]
        return torch.from_numpy(inputs), torch.from_numpy(theta)


class Reference:
    script = "bench/reference/posterior.py"
    loss = staticmethod(forward_kl)

    @staticmethod
    def model_for_check(manifest):
        return build_model(manifest["workload"])

    @staticmethod
    def model_and_batches(workload, seed, _exchange):
        return build_model(workload), LinearRegressionBatches(workload["task"], seed)


if __name__ == "__main__":
    sys.exit(harness.main(__doc__.splitlines()[0], Reference))
