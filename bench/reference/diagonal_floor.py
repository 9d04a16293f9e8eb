"""Best normalised symmetric KL a diagonal Gaussian q can reach against the exact (full
covariance) posterior of linear regression with 1-D inputs (the posterior lab's data:
x ~ N(0, 1), noise variance 0.25, prior N(0, I) on weight and bias, 64-127 points).

sKL(q, p) = 1/2 [tr(P V) + tr(V^-1 S) + d'(P + V^-1) d - 2k]; with d = 0 and V = diag(v) the
minimum over v is at v_i = sqrt(S_ii / P_ii): sKL* = sum_i sqrt(P_ii S_ii) - k, divided by k.

    python3 bench/reference/diagonal_floor.py [--sets 1000] [--seed 0]
"""
import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument('--sets', type=int, default=1000)
parser.add_argument('--seed', type=int, default=0)
args = parser.parse_args()
rng = np.random.default_rng(args.seed)
best, std = [], []
for _ in range(args.sets):
    n = rng.integers(64, 128)
    x = rng.normal(size=n)
    design = np.stack([x, np.ones(n)], 1)
    precision = design.T @ design / 0.25 + np.eye(2)
    covariance = np.linalg.inv(precision)
    best.append((np.sum(np.sqrt(np.diag(precision) * np.diag(covariance))) - 2) / 2)
    std.append(np.sqrt(np.diag(covariance)).mean())
print(f'best diagonal normalised symmetric KL: mean {np.mean(best):.4f}, max {np.max(best):.4f} over {args.sets} data sets')
print(f'mean posterior standard deviation: {np.mean(std):.4f}')
