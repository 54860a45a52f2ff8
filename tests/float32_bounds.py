"""Tolerances of the tests, derived from float32 arithmetic rather than tuned to one machine.

Every bound is a number of float32 ulps of the *largest magnitude compared*: ``ulps(ref, n)`` =
n x 2^-23 x max|ref|. Why these counts:

* ``REORDERED_SUMS`` (64): the same network evaluated with float32 sums in another order (edge
  chunks, a cached static term, another BLAS kernel or CPU, another LibTorch). Each of the ~10
  sums on the way to an output (GEMM dot products, scatter-sums over up to a few hundred edges,
  LayerNorm statistics) may round differently by a few ulps of its own magnitude, and LayerNorm
  divides by standard deviations smaller than the values, so a few tens of ulps of the output
  are expected; 64 leaves a factor of 2-4 to spare over what has been seen (e.g. 2.6e-6 = 13 ulps
  of 1.7 for chunked vs unchunked stage 1 on an AVX-512 CPU). The golden README's 1e-5 for single
  forwards is this bound for outputs of magnitude ~1.3.
* ``ROLLOUT`` (256): 4 day-steps of both stages, each feeding the last one's output back, so the
  single-forward differences compound (x ~4); the golden README's 1e-4 for rollouts is this
  bound for the golden fields' magnitude 3.4.
* ``ROUNDING`` (4): a value through a handful of elementwise operations (normalise, subtract the
  climatology, de-normalise) computed in another but equivalent order: at most half an ulp per
  operation of the largest intermediate.

Results that are bit-identical by construction (a batch of B vs B single runs, TorchScript vs the
eager module on the CPU) are compared exactly, not with these.
"""

import numpy as np

FLOAT32_EPS = float(np.finfo(np.float32).eps)  # 2^-23, one ulp at magnitude 1
ROUNDING = 4
REORDERED_SUMS = 64
ROLLOUT = 256


def ulps(reference, count: int) -> float:
    """``count`` float32 ulps of the largest magnitude in ``reference`` (array or tensor)."""
    magnitude = float(np.max(np.abs(np.asarray(reference, dtype=np.float64))))
    return count * FLOAT32_EPS * max(magnitude, np.finfo(np.float32).tiny)
