"""Time-domain features of every window at once: variance, kurtosis, line length, Hjorth.

Windows of ``w`` samples every ``step`` samples are unions of blocks of ``g = gcd(w, step)``
samples. Each block is reduced once to a few sums (its mean, its central moments 2 to 4, the sums
of ``|dx|``, ``dx**2`` and ``ddx**2`` of the differences inside it), and the differences that
cross a block boundary are kept apart, so a window's statistics are exact combinations of the
blocks and boundaries it contains and depend on no sample outside it. The per-sample work runs in
float32 on cache-sized pieces; the combination runs in float64 on the small per-block arrays.
Where ``g`` is small (an odd window step), the windows are reduced directly instead.

Definitions (per window ``x`` of ``n`` samples, per channel; ``dx``, ``ddx``: first and second
differences, ``n - 1`` and ``n - 2`` values):

- ``variance``: ``var(x, ddof=1)`` (as ``mne_features`` and pandas), reported as log10 (µV²).
- ``kurtosis``: excess (Fisher) kurtosis with biased moments, ``m4 / m2**2 - 3``, as
  ``scipy.stats.kurtosis`` by default; 0 for a flat window.
- ``line_length``: ``mean(|dx|)`` in µV per sample, as ``mne_features`` ``line_length``.
- ``hjorth_mobility``: ``sqrt(var(dx) / var(x))`` (``ddof=0``, per sample, dimensionless).
- ``hjorth_complexity``: ``sqrt(var(ddx) / var(dx)) / mobility``.
  Both are 0 for a flat window.
"""

from __future__ import annotations

import math

import numpy as np

# A window is flat where var(x) <= FLAT_VAR_ABS + FLAT_VAR_REL * mean(x)**2 (µV²): 1 nV of noise,
# or float32 rounding of a constant offset.
FLAT_VAR_ABS = 1e-6
FLAT_VAR_REL = 1e-10
# Blocks shorter than this are not worth the bookkeeping; windows are then reduced directly.
MIN_BLOCK = 64
# Samples per channel in one piece of the block loop (keeps the float32 buffers in cache).
PIECE_SAMPLES = 16384

TEMPORAL_FEATURES = ("line_length", "hjorth_mobility", "hjorth_complexity", "variance", "kurtosis")


def _safe_div(a: np.ndarray, b: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``a / b`` where ``ok``, else 0 (no warning, no NaN)."""
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=ok)


def _finish(
    n: int,
    mean: np.ndarray,
    m2: np.ndarray,
    m4: np.ndarray,
    sum_abs_dx: np.ndarray,
    sum_dx: np.ndarray,
    sum_dx2: np.ndarray,
    sum_ddx: np.ndarray,
    sum_ddx2: np.ndarray,
    log_eps: float,
) -> dict[str, np.ndarray]:
    """The features from a window's sums (float64 arrays ``[C, n_windows]``). ``m2``, ``m4``:
    sums of the 2nd and 4th powers of the deviations from the window mean."""
    m2 = np.maximum(m2, 0.0)
    var0 = m2 / n
    flat = var0 <= FLAT_VAR_ABS + FLAT_VAR_REL * mean * mean
    live = ~flat
    var_dx = np.maximum(sum_dx2 - sum_dx * sum_dx / (n - 1), 0.0) / (n - 1)
    var_ddx = np.maximum(sum_ddx2 - sum_ddx * sum_ddx / (n - 2), 0.0) / (n - 2)
    mobility = np.sqrt(_safe_div(var_dx, var0, live))
    live_dx = live & (var_dx > 1e-12 * var0)
    mobility_dx = np.sqrt(_safe_div(var_ddx, var_dx, live_dx))
    complexity = _safe_div(mobility_dx, mobility, live_dx & (mobility > 0))
    kurtosis = _safe_div(m4 / n, var0 * var0, live) - 3.0 * live
    return {
        "line_length": sum_abs_dx / (n - 1),
        "hjorth_mobility": mobility,
        "hjorth_complexity": complexity,
        "variance": np.log10(m2 / (n - 1) + log_eps),
        "kurtosis": kurtosis,
    }


def _window_take(a: np.ndarray, r: int, m: int, n_win: int) -> np.ndarray:
    """``a[:, j * r + m]`` for ``j < n_win``, as a view."""
    return a[:, m : m + r * (n_win - 1) + 1 : r]


def temporal_features(x: np.ndarray, w: int, step: int, n_win: int, log_eps: float) -> dict:
    """Per-channel time-domain features ``{name: float64 [C, n_win]}`` of the windows
    ``x[:, j*step : j*step + w]`` of a float32 block ``x [C, (n_win-1)*step + w]`` whose rows are
    contiguous."""
    g = math.gcd(w, step)
    if g < MIN_BLOCK or w < 3:
        return _temporal_direct(x, w, step, n_win, log_eps)
    r, q = step // g, w // g
    n_blocks = (n_win - 1) * r + q
    C = x.shape[0]
    L = n_blocks * g  # samples used
    avail = x.shape[1]
    xb = x[:, :L].reshape(C, n_blocks, g)

    s1 = np.empty((C, n_blocks))
    c2 = np.empty((C, n_blocks))
    c3 = np.empty((C, n_blocks))
    c4 = np.empty((C, n_blocks))
    sabs = np.empty((C, n_blocks))
    sdx2 = np.empty((C, n_blocks))
    sddx2 = np.empty((C, n_blocks))

    bp = max(1, PIECE_SAMPLES // g)  # blocks per piece
    ones = np.ones(g, np.float32)
    buf_d = np.empty((C, bp, g), np.float32)
    buf_d2 = np.empty((C, bp, g), np.float32)
    buf_dx = np.empty((C, bp * g), np.float32)
    buf_ddx = np.empty((C, bp * g), np.float32)
    for b0 in range(0, n_blocks, bp):
        b1 = min(n_blocks, b0 + bp)
        nb = b1 - b0
        a, e = b0 * g, b1 * g
        blk = xb[:, b0:b1]
        d, d2 = buf_d[:, :nb], buf_d2[:, :nb]
        s = np.vecdot(blk, ones)
        s1[:, b0:b1] = s
        np.subtract(blk, (s / g)[..., None], out=d)
        c2[:, b0:b1] = np.vecdot(d, d)
        np.multiply(d, d, out=d2)
        c3[:, b0:b1] = np.vecdot(d2, d)
        c4[:, b0:b1] = np.vecdot(d2, d2)
        # First differences dx[i] = x[i+1] - x[i], i in [a, e); the last one of each block crosses
        # into the next block and is left out of the block sums (see the boundary terms below).
        dx = buf_dx[:, : e - a]
        top = min(e + 1, avail)
        np.subtract(x[:, a + 1 : top], x[:, a : top - 1], out=dx[:, : top - 1 - a])
        dx[:, top - 1 - a :] = 0.0
        ddx = buf_ddx[:, : e - a]
        np.subtract(dx[:, 1:], dx[:, :-1], out=ddx[:, :-1])
        ddx[:, -1] = 0.0
        dxb = dx.reshape(C, nb, g)[..., : g - 1]
        ddxb = ddx.reshape(C, nb, g)[..., : g - 2]
        sdx2[:, b0:b1] = np.vecdot(dxb, dxb)
        sddx2[:, b0:b1] = np.vecdot(ddxb, ddxb)
        np.abs(dx, out=dx)
        sabs[:, b0:b1] = np.vecdot(dxb, ones[: g - 1])

    # Differences that cross the boundary between block k and k + 1 (sample i = (k+1)*g - 1):
    # dx[i], ddx[i - 1] = dx[i] - dx[i - 1], ddx[i] = dx[i + 1] - dx[i]; float32 as above.
    i = np.arange(1, n_blocks) * g - 1
    dx_i = x[:, i + 1] - x[:, i]
    dx_im1 = x[:, i] - x[:, i - 1]
    dx_ip1 = x[:, i + 2] - x[:, i + 1]
    ddx_a = (dx_i - dx_im1).astype(np.float64)
    ddx_b = (dx_ip1 - dx_i).astype(np.float64)
    dx_i = dx_i.astype(np.float64)
    bd_abs = np.abs(dx_i)
    bd_dx2 = dx_i * dx_i
    bd_ddx2 = ddx_a * ddx_a + ddx_b * ddx_b

    # Combine blocks j*r .. j*r + q - 1 and the q - 1 boundaries between them.
    means = s1 / g
    mu = sum(_window_take(s1, r, m, n_win) for m in range(q)) / w
    m2 = np.zeros((C, n_win))
    m4 = np.zeros((C, n_win))
    for m in range(q):
        dlt = _window_take(means, r, m, n_win) - mu
        b2 = _window_take(c2, r, m, n_win)
        dlt2 = dlt * dlt
        m2 += b2 + g * dlt2
        m4 += (
            _window_take(c4, r, m, n_win)
            + 4.0 * dlt * _window_take(c3, r, m, n_win)
            + 6.0 * dlt2 * b2
            + g * dlt2 * dlt2
        )
    sum_abs = sum(_window_take(sabs, r, m, n_win) for m in range(q))
    sum_dx2 = sum(_window_take(sdx2, r, m, n_win) for m in range(q))
    sum_ddx2 = sum(_window_take(sddx2, r, m, n_win) for m in range(q))
    for m in range(q - 1):
        sum_abs = sum_abs + _window_take(bd_abs, r, m, n_win)
        sum_dx2 = sum_dx2 + _window_take(bd_dx2, r, m, n_win)
        sum_ddx2 = sum_ddx2 + _window_take(bd_ddx2, r, m, n_win)

    # Sums of dx and ddx telescope to end points.
    st = np.arange(n_win) * step
    sum_dx, sum_ddx = _telescoped(x, st, w)
    return _finish(w, mu, m2, m4, sum_abs, sum_dx, sum_dx2, sum_ddx, sum_ddx2, log_eps)


def _telescoped(x: np.ndarray, st: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of dx (``x[s+w-1] - x[s]``) and of ddx (``dx[s+w-2] - dx[s]``) of each window."""
    sum_dx = x[:, st + w - 1].astype(np.float64) - x[:, st].astype(np.float64)
    dx_first = x[:, st + 1] - x[:, st]
    dx_last = x[:, st + w - 1] - x[:, st + w - 2]
    return sum_dx, dx_last.astype(np.float64) - dx_first.astype(np.float64)


def _temporal_direct(x: np.ndarray, w: int, step: int, n_win: int, log_eps: float) -> dict:
    """The same features reduced window by window (vectorised over windows): the fallback where
    windows share no useful block structure."""
    views = np.lib.stride_tricks.sliding_window_view(x, w, axis=-1)[
        :, : (n_win - 1) * step + 1 : step
    ]
    xw = views.astype(np.float64)
    mean = xw.mean(-1)
    d = xw - mean[..., None]
    d2 = d * d
    m2, m4 = d2.sum(-1), (d2 * d2).sum(-1)
    dx = np.diff(xw, axis=-1)
    ddx = np.diff(dx, axis=-1)
    return _finish(
        w,
        mean,
        m2,
        m4,
        np.abs(dx).sum(-1),
        dx.sum(-1),
        (dx * dx).sum(-1),
        ddx.sum(-1),
        (ddx * ddx).sum(-1),
        log_eps,
    )
