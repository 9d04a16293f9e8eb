"""PyTorch reference for bench/compare.mjs: the diffusion sampler trained by trajectory balance with
exploration on 25GMM, written from our src/core/sampler/ (sampler.ts, trajectories.ts,
objectives.ts, targets.ts), the same operations in the same order.

A step: draw n trajectories of T steps from x_0 = 0 with the current policy (no gradient),
  x_{i+1} = x_i + dt mu(x_i, t_i) + sqrt(t_scale dt + e^2) eps,  e the exploration std of the step,
with log p_F, then log R(x_T) and the Brownian-bridge log p_B in double precision; then the T
transitions of the batch through the network as one batch, and the trajectory-balance loss
  mean (log Z - Q_k - c_k)^2 / 2,  Q_k = sum_i |x_{i+1} - x_i - dt mu(x_i, t_i)|^2 / (2 t_scale dt),
  c_k = log R(x_T) + log p_B - (the constant of log p_F),
with Adam on every parameter (log Z = scale * v, scale = logZLearningRate / learningRate).

Modes (see harness.py):
  check  our initial weights, and per step the normals our draw took and its exploration std:
         the same trajectories replayed; prints the losses and the largest difference between our
         weights after the last step and these
  time   the same step with its noise from torch.randn
"""
import json
import math
import sys

import numpy as np
import torch
from torch import nn

import harness  # bench/reference/harness.py, beside this script

SCRIPT = "bench/reference/sampler.py"
LOG_2PI = math.log(2 * math.pi)
# 25GMM (targets.ts): the grid {-10, -5, 0, 5, 10}^2, std sqrt(0.3), equal weights, normalised.
GMM25_MEANS = [[a, b] for a in (-10, -5, 0, 5, 10) for b in (-10, -5, 0, 5, 10)]
GMM25_STD = math.sqrt(0.3)


class TimeEmbedding(nn.Module):
    """sin and cos of t f + phase (f = linspace(0.1, 100, H) as ours computes it, learned phases),
    then Linear, GELU, Linear: our time.phase, time.0, time.2."""

    def __init__(self, harmonics, hidden):
        super().__init__()
        frequencies = [0.1 if harmonics == 1 else 0.1 + ((100 - 0.1) * i) / (harmonics - 1) for i in range(harmonics)]
        self.frequencies = torch.tensor(frequencies, dtype=torch.float32).view(1, harmonics)  # not a parameter
        self.phase = nn.Parameter(torch.randn(1, harmonics))
        self.add_module("0", nn.Linear(2 * harmonics, hidden))
        self.add_module("2", nn.Linear(hidden, hidden))

    def forward(self, t):
        """t [N] -> [N, hidden]"""
        angle = t.unsqueeze(1) * self.frequencies + self.phase
        features = torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)
        return self._modules["2"](nn.functional.gelu(self._modules["0"](features)))


class DiffusionSampler(nn.Module):
    """mu(x, t) = joint.5(GELU(joint.3(GELU(joint.1(GELU(state(x) + time(t))))))), the output layer
    zero-initialised (training starts from the Brownian motion); a scalar log Z. GELU: the exact erf
    form, PyTorch's default and ours."""

    def __init__(self, dimension, options, log_z_scale):
        super().__init__()
        hidden = options["hidden"]
        self.dimension, self.steps, self.t_scale, self.log_z_scale = dimension, options["steps"], options["tScale"], log_z_scale
        self.time = TimeEmbedding(options["harmonics"], hidden)
        self.state = nn.Linear(dimension, hidden)
        self.joint = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, dimension))
        with torch.no_grad():
            self.joint[5].weight.zero_()
            self.joint[5].bias.zero_()
        self.logZ = nn.Parameter(torch.zeros(()))

    def log_z(self):
        return self.logZ * self.log_z_scale

    def drift(self, x, t):
        """x [N, d] with t [1] (one time for every row), or x [n, T, d] with t [T]: the time
        embedding once per distinct time, broadcast."""
        return self.joint(self.state(x) + self.time(t))


class Gmm25:
    def __init__(self):
        self.means = torch.tensor(GMM25_MEANS, dtype=torch.float32).view(1, len(GMM25_MEANS), 2)
        k, d = len(GMM25_MEANS), 2
        self.scale = -0.5 / (GMM25_STD * GMM25_STD)
        self.constant = -0.5 * d * (LOG_2PI + 2 * math.log(GMM25_STD)) - math.log(k)

    def log_density(self, x):
        """x [n, d] -> [n]"""
        exponents = (x.unsqueeze(1) - self.means).square().sum(2) * self.scale
        return torch.logsumexp(exponents, dim=1) + self.constant


@torch.no_grad()
def forward_trajectories(model, target, noise, exploration):
    """States [n, T + 1, d] (float32, as the network sees them), log p_F and log R(x_T) (double).
    noise [T, n, d]. As ours, the new state is computed in double and stored as float32."""
    steps, t_scale = model.steps, model.t_scale
    n, d = noise.shape[1], noise.shape[2]
    dt = 1 / steps
    policy_variance = t_scale * dt
    sampling_std = math.sqrt(policy_variance + exploration * exploration)
    x = torch.zeros(n, d)
    states, log_pf = [x], torch.zeros(n, dtype=torch.float64)
    for i in range(steps):
        step = dt * model.drift(x, torch.tensor([i * dt], dtype=torch.float32)).double()
        x_next = (x.double() + step + sampling_std * noise[i].double()).float()
        residual = x_next.double() - x.double() - step
        log_pf += -0.5 * (residual.square().sum(1) / policy_variance + d * (LOG_2PI + math.log(policy_variance)))
        states.append(x_next)
        x = x_next
    return torch.stack(states, dim=1), log_pf, target.log_density(x).double()


def backward_log_probability(states, t_scale):
    """sum_i log N(x_i; x_{i+1} i/(i+1), t_scale dt i/(i+1)) over i = 1..T-1, in double: [n]."""
    s = states.double()
    steps, d = s.shape[1] - 1, s.shape[2]
    dt = 1 / steps
    i = torch.arange(1, steps, dtype=torch.float64)
    ratio = i / (i + 1)
    variance = t_scale * dt * ratio
    residual = s[:, 1:steps] - s[:, 2:] * ratio.view(1, -1, 1)
    return (-0.5 * (residual.square().sum(2) / variance + d * (LOG_2PI + variance.log()))).sum(1)


def transitions(states):
    """The network's batch of a draw: states x_0..x_{T-1} [n, T, d], their times [T], increments [n T, d]."""
    n, steps, d = states.shape[0], states.shape[1] - 1, states.shape[2]
    times = torch.tensor([i / steps for i in range(steps)], dtype=torch.float32)
    return states[:, :steps], times, (states[:, 1:] - states[:, :steps]).reshape(n * steps, d)


def forward_log_normaliser(model):
    return -0.5 * model.steps * model.dimension * (LOG_2PI + math.log(model.t_scale / model.steps))


def offsets_of(model, states, log_r):
    """c_k = log R + log p_B - (the constant of log p_F), summed in double, then float32."""
    return (log_r + backward_log_probability(states, model.t_scale) - forward_log_normaliser(model)).float()


def trajectory_balance(model, x, times, increments, offsets):
    """mean (log Z - Q - c)^2 / 2 from the network's drifts over the batch's transitions, one pass."""
    n, steps, d = x.shape
    dt = 1 / steps
    drift = model.drift(x, times).reshape(n * steps, d)
    residual = increments - drift * dt
    q = residual.square().sum(1).view(n, steps).sum(1) / (2 * model.t_scale * dt)
    r = model.log_z() - q - offsets
    return (r.square() * 0.5).mean()


def train_on(model, optimizer, x, times, increments, offsets):
    loss = trajectory_balance(model, x, times, increments, offsets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def on_policy_batch(model, target, noise, exploration):
    """A forward draw as the network's batch, and its end points with their log R (for the buffer)."""
    states, _log_pf, log_r = forward_trajectories(model, target, noise, exploration)
    return (*transitions(states), offsets_of(model, states, log_r)), states[:, -1], log_r


def train_step(model, optimizer, target, noise, exploration):
    batch, _finals, _log_r = on_policy_batch(model, target, noise, exploration)
    return train_on(model, optimizer, *batch)


def exploration_at(objective, step):
    """objectives.ts explorationAt: linear from `exploration` to 0 over explorationDecaySteps (0: constant)."""
    e, decay = objective["exploration"], objective["explorationDecaySteps"]
    return e if decay <= 0 else e * max(0, 1 - step / decay)


def build(workload):
    """This reference covers one configuration; anything else would compare different computations."""
    task, model, objective = workload["task"], workload["model"], workload["objective"]
    wanted = [(task["name"], "sampler-gmm25"), (model["name"], "diffusion-sampler"), (model["langevin"], False),
              (objective["name"], "trajectory-balance")]
    for got, expected in wanted:
        if got != expected:
            raise SystemExit(f"{SCRIPT}: covers {expected!r}, got {got!r}")
    scale = objective["logZLearningRate"] / workload["learningRate"]
    return DiffusionSampler(2, model, scale), Gmm25()


def check(args, _reference):
    manifest, take = harness.load_exchange(args.exchange)
    workload = manifest["workload"]
    model, target = build(workload)
    harness.load_our_weights(model, manifest, take, SCRIPT)
    optimizer = torch.optim.Adam(model.parameters(), lr=workload["learningRate"])
    losses = []
    for entry in manifest["steps"]:
        if "noise" in entry:  # on-policy: our draw's normals
            losses.append(train_step(model, optimizer, target, take(entry["noise"]), entry["exploration"]).item())
        else:  # a buffer step: the backward trajectories our buffer and MALA gave (they do not depend on the network)
            inputs, d = take(entry["inputs"]), model.dimension
            times = inputs[0, :, d].contiguous()
            losses.append(train_on(model, optimizer, inputs[..., :d].contiguous(), times, take(entry["increments"]), take(entry["offsets"])).item())
    ours = harness.our_state(manifest["finalParameters"], take)
    theirs = model.state_dict()
    differences = {name: (ours[name] - theirs[name]).abs().max().item() for name in theirs}
    worst = max(differences, key=differences.get)
    print(json.dumps({"losses": losses, "weights": {"maxDifference": differences[worst], "parameter": worst,
                                                    "largestWeight": max(t.abs().max().item() for t in theirs.values())}}))


@torch.no_grad()
def backward_batch(model, target, finals):
    """Backward-policy trajectories from the end points `finals` [n, d] as the network's batch, with
    log p_F under the current policy from one batched pass, as ours computes it (for log-weights)."""
    steps, t_scale = model.steps, model.t_scale
    n, d = finals.shape
    dt = 1 / steps
    states = [torch.zeros(n, d)] + [None] * (steps - 1) + [finals]
    for i in range(steps - 1, 0, -1):
        ratio = i / (i + 1)
        states[i] = (states[i + 1].double() * ratio + math.sqrt(t_scale * dt * ratio) * torch.randn(n, d, dtype=torch.float64)).float()
    states = torch.stack(states, dim=1)
    log_r = target.log_density(finals).double()
    x, times, increments = transitions(states)
    residual = increments.double() - dt * model.drift(x, times).reshape(n * steps, d).double()
    _log_pf = -0.5 * residual.square().view(n, steps * d).sum(1) / (t_scale * dt) + forward_log_normaliser(model)
    return x, times, increments, offsets_of(model, states, log_r)


class ReplayBuffer:
    """localSearch.ts ReplayBuffer: at most `capacity` samples (the oldest leave first), drawn with
    replacement with probability proportional to 1 / (rank_weight size + rank), rank 0 the highest log R."""

    def __init__(self, dimension, capacity, rank_weight):
        self.points, self.log_r = torch.zeros(0, dimension), torch.zeros(0)
        self.capacity, self.rank_weight, self.cumulative = capacity, rank_weight, None

    @property
    def size(self):
        return self.log_r.shape[0]

    def add(self, points, log_r):
        self.points = torch.cat([self.points, points])[-self.capacity:]
        self.log_r = torch.cat([self.log_r, log_r.float()])[-self.capacity:]
        self.cumulative = None

    def sample(self, n):
        if self.cumulative is None:
            size = self.size
            weights = torch.empty(size, dtype=torch.float64)
            weights[torch.argsort(self.log_r, descending=True)] = 1 / (self.rank_weight * size + torch.arange(size, dtype=torch.float64))
            self.cumulative = weights.cumsum(0)
        u = torch.rand(n, dtype=torch.float64) * self.cumulative[-1]
        return self.points[torch.searchsorted(self.cumulative, u, right=True).clamp(max=self.size - 1)]


def log_density_and_gradient(target, x):
    """As trajectories.ts logDensityAndGradient: log R and its gradient, then log R again outside the tape."""
    y = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(target.log_density(y).sum(), y)
    return target.log_density(x), grad


@torch.no_grad()
def mala(target, start, objective):
    """localSearch.ts mala: x' = x + h grad log R(x) + sqrt(2h) eps, Metropolis-adjusted; h up 1% while the
    acceptance over blocks of 5 steps is above the target, down 1% otherwise; accepted states after burn-in kept."""
    x, (n, _d) = start.clone(), start.shape
    log_r, grad = log_density_and_gradient(target, x)
    h, rate, block_accepted, block_proposals = objective["localSearchStepSize"], 0.0, 0, 0
    kept_points, kept_log_r = [], []
    for step in range(objective["localSearchSteps"]):
        if step > 0:
            h = h * 1.01 if rate > objective["targetAcceptance"] else h * 0.99
        proposal = x + h * grad + math.sqrt(2 * h) * torch.randn_like(x)
        next_log_r, next_grad = log_density_and_gradient(target, proposal)
        forward = (proposal - x - h * grad).square().sum(1)
        backward = (x - proposal - h * next_grad).square().sum(1)
        log_accept = next_log_r - log_r + (forward - backward) / (4 * h)
        accept = torch.rand(n) < torch.exp(log_accept.clamp(max=0))
        x = torch.where(accept.unsqueeze(1), proposal, x)
        grad = torch.where(accept.unsqueeze(1), next_grad, grad)
        log_r = torch.where(accept, next_log_r, log_r)
        if step > objective["localSearchBurnIn"]:
            kept_points.append(proposal[accept])
            kept_log_r.append(next_log_r[accept])
        block_accepted += int(accept.sum())
        block_proposals += n
        if step % 5 == 0:
            rate, block_accepted, block_proposals = block_accepted / block_proposals, 0, 0
    return torch.cat(kept_points), torch.cat(kept_log_r)


def is_buffer_step(objective, step):
    return objective.get("localSearch", False) and step % 2 == 0


def runs_local_search(objective, step):
    return is_buffer_step(objective, step) and (step - 1) % objective["localSearchEvery"] < 2


class Steps:
    """time: each step draws its own noise with torch.randn (its cost counted, as our draws are);
    with local search, odd steps on-policy into the policy buffer, even steps on backward
    trajectories from the searched buffer, which MALA fills from the policy buffer (objectives.ts)."""

    def __init__(self, workload, target, dimension):
        self.objective, self.target = workload["objective"], target
        self.count = 0
        if self.objective.get("localSearch", False):
            buffer = lambda: ReplayBuffer(dimension, self.objective["bufferSize"], self.objective["rankWeight"])
            self.policy, self.searched = buffer(), buffer()

    def step(self, model, optimizer, batch_size):
        self.count += 1
        step, objective = self.count, self.objective
        if is_buffer_step(objective, step):
            if runs_local_search(objective, step) and self.policy.size > 0:
                self.searched.add(*mala(self.target, self.policy.sample(batch_size), objective))
            if self.searched.size > 0:
                return train_on(model, optimizer, *backward_batch(model, self.target, self.searched.sample(batch_size)))
        noise = torch.randn(model.steps, batch_size, model.dimension)
        batch, finals, log_r = on_policy_batch(model, self.target, noise, exploration_at(objective, step))
        if objective.get("localSearch", False):
            self.policy.add(finals, log_r)
        return train_on(model, optimizer, *batch)


class Reference:
    script = SCRIPT
    check = staticmethod(check)

    @staticmethod
    def model_and_batches(workload, _seed, _exchange):
        model, target = build(workload)
        return model, Steps(workload, target, model.dimension)


if __name__ == "__main__":
    sys.exit(harness.main(__doc__.splitlines()[0], Reference))
