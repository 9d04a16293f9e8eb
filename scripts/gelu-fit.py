# The polynomial of src/kernels/gelu.h: Phi(-a) = exp(-a^2/2) t P(t), t = 1 / (1 + 0.3 a), for
# a in [0, 12], P of degree 9 fitted to 0.5 erfcx(a / sqrt 2) / t (scipy's double-precision erfcx)
# by weighted least squares on 3,000 Chebyshev nodes, reweighted 60 times towards the smallest
# largest relative error (near-minimax). Prints the coefficients as float32 and the fit's largest
# relative error on 400,001 points. Run: python3 scripts/gelu-fit.py (needs numpy and scipy).
import numpy as np
from scipy.special import erfcx

A, P_SCALE, DEGREE = 12.0, 0.3, 9


def target(t):
    a = (1 / t - 1) / P_SCALE
    return 0.5 * erfcx(a / np.sqrt(2)) / t


t0 = 1 / (1 + P_SCALE * A)
nodes = 3000
t = t0 + (1 - t0) * (0.5 - 0.5 * np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes))
f = target(t)
weights = 1 / f
powers = np.vander(t, DEGREE + 1, increasing=True)
for _ in range(60):
    coefficients, *_ = np.linalg.lstsq(powers * weights[:, None], f * weights, rcond=None)
    relative = (powers @ coefficients - f) / f
    weights = weights * (1 + 5 * np.abs(relative) / np.abs(relative).max())
check = np.linspace(t0, 1, 400001)
error = np.abs((np.vander(check, DEGREE + 1, increasing=True) @ coefficients - target(check)) / target(check)).max()
print('coefficients of t^0 .. t^9 (float32):', ', '.join('%.9gf' % c for c in coefficients.astype(np.float32)))
print('largest relative error of the fit: %.2g' % error)
