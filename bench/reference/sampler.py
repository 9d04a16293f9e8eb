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


def trajectory_balance(model, states, offsets):
    """mean (log Z - Q - c)^2 / 2 from the network's drifts over the batch's transitions, one pass."""
    n, steps, d = states.shape[0], states.shape[1] - 1, states.shape[2]
    dt = 1 / steps
    times = torch.tensor([i / steps for i in range(steps)], dtype=torch.float32)
    increments = (states[:, 1:] - states[:, :steps]).reshape(n * steps, d)
    drift = model.drift(states[:, :steps], times).reshape(n * steps, d)
    residual = increments - drift * dt
    q = residual.square().sum(1).view(n, steps).sum(1) / (2 * model.t_scale * dt)
    r = model.log_z() - q - offsets
    return (r.square() * 0.5).mean()


def train_step(model, optimizer, target, noise, exploration):
    states, _log_pf, log_r = forward_trajectories(model, target, noise, exploration)
    steps, d = model.steps, model.dimension
    constant = -0.5 * steps * d * (LOG_2PI + math.log(model.t_scale / steps))
    offsets = (log_r + backward_log_probability(states, model.t_scale) - constant).float()
    loss = trajectory_balance(model, states, offsets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def exploration_at(objective, step):
    """objectives.ts explorationAt: linear from `exploration` to 0 over explorationDecaySteps (0: constant)."""
    e, decay = objective["exploration"], objective["explorationDecaySteps"]
    return e if decay <= 0 else e * max(0, 1 - step / decay)


def build(workload):
    """This reference covers one configuration; anything else would compare different computations."""
    task, model, objective = workload["task"], workload["model"], workload["objective"]
    wanted = [(task["name"], "sampler-gmm25"), (model["name"], "diffusion-sampler"), (model["langevin"], False),
              (objective["name"], "trajectory-balance"), (objective.get("localSearch", False), False)]
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
    losses = [train_step(model, optimizer, target, take(entry["noise"]), entry["exploration"]).item() for entry in manifest["steps"]]
    ours = harness.our_state(manifest["finalParameters"], take)
    theirs = model.state_dict()
    differences = {name: (ours[name] - theirs[name]).abs().max().item() for name in theirs}
    worst = max(differences, key=differences.get)
    print(json.dumps({"losses": losses, "weights": {"maxDifference": differences[worst], "parameter": worst,
                                                    "largestWeight": max(t.abs().max().item() for t in theirs.values())}}))


class Steps:
    """time: each step draws its noise with torch.randn (its cost counted, as our draws are)."""

    def __init__(self, workload, target):
        self.objective, self.target = workload["objective"], target
        self.count = 0

    def step(self, model, optimizer, batch_size):
        self.count += 1
        noise = torch.randn(model.steps, batch_size, model.dimension)
        return train_step(model, optimizer, self.target, noise, exploration_at(self.objective, self.count))


class Reference:
    script = SCRIPT
    check = staticmethod(check)

    @staticmethod
    def model_and_batches(workload, _seed, _exchange):
        model, target = build(workload)
        return model, Steps(workload, target)


if __name__ == "__main__":
    sys.exit(harness.main(__doc__.splitlines()[0], Reference))
