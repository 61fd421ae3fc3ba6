#!/usr/bin/env python3
"""
The PyTorch peer of `npm run bench -- --peer`: the same computations as the library's benchmark
cases, written the way a PyTorch user would write them, timed with PyTorch on the CPU.

  s4_layer          the DPLR S4 kernel from HiPPO-LegS parameters tiled over h, with conjugate
                    symmetry (N/2 modes, L/2 + 1 frequencies, irfft), then the causal FFT
                    convolution (rfft/irfft at 2L) and the skip term D·u
  causal_conv       the FFT convolution alone, u (b, h, l) with k (h, l)
  selective_scan    Mamba's reference scan (selective_scan_ref): a Python loop over l, with D, z,
                    Δ bias and softplus
  depthwise_conv1d  F.conv1d with groups = d, left padding k − 1 (causal)
  mamba_block       in_proj, causal depthwise conv, SiLU, x_proj, dt_proj, the reference scan,
                    the SiLU gate and out_proj

For each op: the forward time (under torch.no_grad) and the time of the gradients of Σ y·r with
respect to every input (forward included), each the median of at least three warm runs after one
or two warm-up runs. Prints one JSON object per op on stdout.

Exit status: 0 when every op was timed, 1 when one failed, 2 on bad usage, 3 when PyTorch is not
installed for this interpreter.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

OPS = ("s4_layer", "causal_conv", "selective_scan", "depthwise_conv1d", "mamba_block")

# Shapes of `npm run bench`, and tiny ones for tests (--small). s4_layer's pairs: 1 stores one mode
# of each conjugate pair (the official S4), 0 all n modes (The Annotated S4, the library's default).
DIMS = {
    "s4_layer": {"b": 16, "h": 64, "n": 64, "l": 784, "pairs": 1},
    "causal_conv": {"b": 16, "h": 64, "l": 784},
    "selective_scan": {"b": 16, "d": 64, "n": 16, "l": 784},
    "depthwise_conv1d": {"b": 16, "d": 128, "l": 784, "k": 4},
    "mamba_block": {"b": 16, "l": 784, "d_model": 32, "expand": 2, "n": 16, "d_conv": 4},
}
SMALL_DIMS = {
    "s4_layer": {"b": 2, "h": 3, "n": 8, "l": 16, "pairs": 1},
    "causal_conv": {"b": 2, "h": 3, "l": 16},
    "selective_scan": {"b": 2, "d": 3, "n": 4, "l": 16},
    "depthwise_conv1d": {"b": 2, "d": 3, "l": 16, "k": 4},
    "mamba_block": {"b": 2, "l": 16, "d_model": 8, "expand": 2, "n": 4, "d_conv": 4},
}

NO_TORCH_EXIT = 3


def load_torch():
    try:
        import torch  # noqa: F401
    except ImportError as e:
        print(f"torch_peer: PyTorch is not installed for {sys.executable} ({e})", file=sys.stderr)
        print("torch_peer: install it with `apt-get install python3-torch` (Debian) or `pip install torch`", file=sys.stderr)
        sys.exit(NO_TORCH_EXIT)
    return torch


def core_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---- Arguments -------------------------------------------------------------------------------------


def parse_dims(text):
    """'b=16,h=64' → {'b': 16, 'h': 64}."""
    dims = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        # every size is ≥ 1, except the switch pairs (0 or 1)
        if not sep or not value.strip().isdigit() or int(value) < (0 if key.strip() == "pairs" else 1):
            raise argparse.ArgumentTypeError(f"expected name=positive integer pairs like b=16,l=784 (pairs=0 or 1), got {item!r}")
        dims[key.strip()] = int(value)
    return dims


def parse_ops(text):
    ops = [op for op in text.split(",") if op]
    for op in ops:
        if op not in OPS:
            raise argparse.ArgumentTypeError(f"unknown op {op!r}, expected one of {', '.join(OPS)}")
    return ops


def parse_threads(text):
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number of threads from 1 to 256, got {text!r}")
    return int(text)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="torch_peer.py",
        description="Times the ops of `npm run bench` with PyTorch on the CPU; one JSON line per op.",
    )
    p.add_argument("--only", type=parse_ops, default=list(OPS), help=f"comma list of ops: {', '.join(OPS)} (default: all)")
    p.add_argument("--threads", type=parse_threads, default=None, help="torch.set_num_threads (default: the number of cores)")
    p.add_argument("--quick", action="store_true", help="one warm-up run and at most 5 timed runs (still at least 3)")
    p.add_argument("--small", action="store_true", help="tiny shapes, for tests")
    p.add_argument("--dims", type=parse_dims, default={}, help="override sizes of the chosen ops, e.g. b=128,h=128")
    p.add_argument("--seed", type=int, default=0, help="seed of the inputs (default 0)")
    p.add_argument(
        "--kernel-check", metavar="FILE",
        help="instead of timing: read S4 parameters (JSON) from FILE and print the S4 kernel (and the layer output when u and D are given)",
    )
    args = p.parse_args(argv)
    for op in args.only:
        unknown = set(args.dims) - set(DIMS[op])
        if unknown:
            p.error(f"--dims: {op} has no size {', '.join(sorted(unknown))}; its sizes are {', '.join(DIMS[op])}")
    return args


# ---- Timing ------------------------------------------------------------------------------------------

MIN_WARM_RUNS = 3


def median_ms(run, quick):
    """Median of at least MIN_WARM_RUNS warm runs after one (--quick) or two warm-up runs."""
    warmup, budget_ms, max_reps = (1, 300.0, 5) if quick else (2, 1500.0, 20)
    last = 0.0
    for _ in range(warmup):
        t0 = time.perf_counter()
        run()
        last = (time.perf_counter() - t0) * 1000
    reps = max(MIN_WARM_RUNS, min(max_reps, int(budget_ms / max(last, 1e-3))))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), reps


# ---- S4 --------------------------------------------------------------------------------------------


def hippo_dplr(torch, N, pairs=True):
    """
    HiPPO-LegS in diagonal-plus-low-rank form: all N modes, or with pairs one mode of each
    conjugate pair: Λ, P, B each (N/2) complex128. A = S − p pᵀ with S = −½I + a skew-symmetric part; −i times the
    skew part is Hermitian, and its eigenvectors V give Λ = −½ + i·eig, P = Vᴴ p, B = Vᴴ q.
    """
    n = torch.arange(N, dtype=torch.float64)
    p = torch.sqrt(n + 0.5)
    q = torch.sqrt(2 * n + 1)
    A = -torch.tril(q[:, None] * q[None, :], diagonal=-1) - torch.diag(n + 1)
    S = A + p[:, None] * p[None, :]
    shift = torch.diagonal(S).mean()
    skew = S - shift * torch.eye(N, dtype=torch.float64)
    values, V = torch.linalg.eigh(-1j * skew.to(torch.complex128))  # ascending, in ± pairs
    keep = values > 0 if pairs else torch.ones_like(values, dtype=torch.bool)  # the upper half; its partners are the conjugates
    Vh = V.conj().transpose(0, 1)
    lam = torch.complex(torch.full_like(values[keep], float(shift)), values[keep])
    P = (Vh @ p.to(torch.complex128))[keep]
    B = (Vh @ q.to(torch.complex128))[keep]
    return lam, P, B


def rfft_points(torch, L, pairs=True):
    """The first L/2 + 1 (all L without pairs) of the L roots of unity e^{−2πik/L}, complex64."""
    k = torch.arange(L // 2 + 1 if pairs else L, dtype=torch.float64)
    return torch.polar(torch.ones_like(k), -2 * math.pi * k / L).to(torch.complex64)


def s4_kernel(torch, lam, P, B, C, log_dt, L, points=None, pairs=True):
    """
    The S4 convolution kernel K (h, L) of h DPLR systems with Q = P, each given by one mode of
    every conjugate pair (pairs; all modes otherwise, as The Annotated S4 keeps them, evaluated at
    all L roots with the real part of the inverse FFT): lam, P, B, C (h, m) complex, log_dt (h).

    The bilinear generating function at a point o is
      K̂(o) = c·[k00 − k01·k10 / (1 + k11)],  k_xy = Σ v_xy / (g − λ) over all N = 2m modes,
    g = (2/Δ)(1 − o)/(1 + o), c = 2/(1 + o), v = (conj C·B, conj C·P, conj P·B, conj P·P).
    c/(g − λ) = 2Δ / (2(1 − o) − Δλ(1 + o)) has no pole at o = −1, so the sums carry that form;
    the conjugate partner of a mode contributes conj(v) / (2(1 − o) − Δ·conj(λ)(1 + o)).
    """
    o = rfft_points(torch, L, pairs) if points is None else points  # (F)
    dt = torch.exp(log_dt)[:, None, None]  # (h, 1, 1)
    v = torch.stack([C.conj() * B, C.conj() * P, P.conj() * B, P.conj() * P], dim=1)  # (h, 4, m)
    dlam = (lam * dt[:, :, 0])[:, :, None]  # Δλ: (h, m, 1)
    minus, plus = 2 * (1 - o), 1 + o  # (F)
    inv = 1 / (minus - dlam * plus)  # (h, m, F)
    if pairs:
        inv_conj = 1 / (minus - dlam.conj() * plus)  # (h, m, F)
        sums = (2 * dt) * (v @ inv + v.conj() @ inv_conj)  # (h, 4, F): c·k_xy
    else:
        sums = (2 * dt) * (v @ inv)
    k00, k01, k10, k11 = sums.unbind(1)
    half = plus / 2  # (1 + o)/2 = 1/c turns c·k10 and c·k11 back into k10 and k11
    spectrum = k00 - k01 * (k10 * half) / (1 + k11 * half)  # (h, F)
    if pairs:
        return torch.fft.irfft(spectrum, n=L)  # (h, L)
    return torch.fft.ifft(spectrum, n=L).real


def fft_causal_conv(torch, u, k):
    """y = k ⊛ u, causal: u (b, h, l), k (h, l) → (b, h, l); zero-padded to 2l so nothing wraps."""
    L = u.shape[-1]
    y = torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)
    return y[..., :L]


def s4_case(torch, dims, gen):
    b, h, N, L = dims["b"], dims["h"], dims["n"], dims["l"]
    pairs = bool(dims.get("pairs", 1))
    if pairs and N % 2:
        raise ValueError(f"s4_layer: n must be even with pairs=1 (conjugate pairs), got {N}")
    lam, P, B = hippo_dplr(torch, N, pairs)
    m = N // 2 if pairs else N

    def tiled(z):  # (m) complex128 → (h, m, 2) float32, the real view a module would hold
        return torch.view_as_real(z.to(torch.complex64)).repeat(h, 1, 1).contiguous()

    u = torch.randn(b, h, L, generator=gen)
    C = 0.5 * torch.randn(h, m, 2, generator=gen)
    lo, hi = math.log(1e-3), math.log(1e-1)
    log_dt = lo + (hi - lo) * torch.rand(h, generator=gen)
    D = torch.randn(h, generator=gen)
    inputs = [u, tiled(lam), tiled(P), tiled(B), C, log_dt, D]
    points = rfft_points(torch, L, pairs)
    cx = torch.view_as_complex

    def layer(u, lam, P, B, C, log_dt, D):
        K = s4_kernel(torch, cx(lam), cx(P), cx(B), cx(C), log_dt, L, points, pairs)  # (h, L)
        return fft_causal_conv(torch, u, K) + D[:, None] * u

    shape = f"b={b} h={h} n={N} l={L}"
    note = f"{m} modes of conjugate pairs at {L // 2 + 1} frequencies" if pairs else f"all {m} modes at all {L} roots of unity"
    return shape, layer, inputs, torch.randn(b, h, L, generator=gen), note


def causal_conv_case(torch, dims, gen):
    b, h, L = dims["b"], dims["h"], dims["l"]
    inputs = [torch.randn(b, h, L, generator=gen), 0.05 * torch.randn(h, L, generator=gen)]
    return f"b={b} h={h} l={L}", lambda u, k: fft_causal_conv(torch, u, k), inputs, torch.randn(b, h, L, generator=gen), None


# ---- Mamba ------------------------------------------------------------------------------------------


def scan_by_loop(torch, u, delta, A, B, C, D, z, delta_bias, softplus=True):
    """
    Mamba's selective scan, one position at a time, as its reference implementation runs it:
    u, delta, z (b, d, l); A (d, n); B, C (b, n, l); D, delta_bias (d) → y (b, d, l).
      h_t = exp(Δ_t A) h_{t−1} + Δ_t B_t u_t,  y_t = C_t·h_t + D u_t,  y ← y·silu(z)

    The per-step slices come from unbind, not from indexing (decay[:, :, t]): the backward of an
    index allocates a zero tensor of the whole (b, d, l, n) input for every step, so the backward
    grows as l², about 15 s at l = 400 and a minute at l = 784 on 2 cores; unbind's backward
    stacks the step gradients once.
    """
    F = torch.nn.functional
    dt = delta + delta_bias[:, None]
    if softplus:
        dt = F.softplus(dt)
    decay = torch.exp(torch.einsum("bdl,dn->bdln", dt, A))  # (b, d, l, n)
    drive = torch.einsum("bdl,bnl,bdl->bdln", dt, B, u)  # (b, d, l, n)
    state = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])  # (b, d, n)
    outputs = []
    for decay_t, drive_t, C_t in zip(decay.unbind(2), drive.unbind(2), C.unbind(2)):
        state = decay_t * state + drive_t
        outputs.append(torch.einsum("bdn,bn->bd", state, C_t))
    y = torch.stack(outputs, dim=2) + u * D[:, None]  # (b, d, l)
    return y * F.silu(z)


def selective_scan_case(torch, dims, gen):
    b, d, n, L = dims["b"], dims["d"], dims["n"], dims["l"]
    A = -torch.arange(1, n + 1, dtype=torch.float32).repeat(d, 1)  # S4D-real: (d, n)
    dt0 = 1e-3 + (1e-1 - 1e-3) * torch.rand(d, generator=gen)
    inputs = [
        torch.randn(b, d, L, generator=gen),  # u
        0.1 * torch.randn(b, d, L, generator=gen),  # delta, before bias and softplus
        A,
        torch.randn(b, n, L, generator=gen),  # B
        torch.randn(b, n, L, generator=gen),  # C
        torch.randn(d, generator=gen),  # D
        torch.randn(b, d, L, generator=gen),  # z
        torch.log(torch.expm1(dt0)),  # delta bias: softplus⁻¹ of Δ
    ]
    fn = lambda *xs: scan_by_loop(torch, *xs)  # noqa: E731
    return f"b={b} d={d} n={n} l={L}", fn, inputs, torch.randn(b, d, L, generator=gen), None


def depthwise_case(torch, dims, gen):
    b, d, L, k = dims["b"], dims["d"], dims["l"], dims["k"]
    F = torch.nn.functional

    def conv(x, w, bias):  # x (b, d, l), w (d, k), bias (d)
        return F.conv1d(x, w[:, None, :], bias, padding=k - 1, groups=d)[..., :L]

    inputs = [torch.randn(b, d, L, generator=gen), torch.randn(d, k, generator=gen), torch.randn(d, generator=gen)]
    return f"b={b} d={d} l={L} k={k}", conv, inputs, torch.randn(b, d, L, generator=gen), None


def make_mamba_block(torch, d_model, expand, n, d_conv, gen):
    nn, F = torch.nn, torch.nn.functional
    d_inner = expand * d_model
    dt_rank = math.ceil(d_model / 16)

    class MambaBlock(nn.Module):
        """The Mamba mixer, x (b, l, d_model) → (b, l, d_model), with the reference scan."""

        def __init__(self):
            super().__init__()
            self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
            self.conv1d = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=d_conv - 1, bias=True)
            self.x_proj = nn.Linear(d_inner, dt_rank + 2 * n, bias=False)
            self.dt_proj = nn.Linear(dt_rank, d_inner, bias=True)
            self.out_proj = nn.Linear(d_inner, d_model, bias=False)
            with torch.no_grad():
                # Δ starts log-uniform in [1e-3, 1e-1]: the bias is its softplus inverse
                lo, hi = math.log(1e-3), math.log(1e-1)
                dt = torch.exp(lo + (hi - lo) * torch.rand(d_inner, generator=gen)).clamp(min=1e-4)
                self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
            self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(d_inner, 1))
            self.D = nn.Parameter(torch.ones(d_inner))

        def forward(self, x):
            L = x.shape[1]
            xz = self.in_proj(x).transpose(1, 2)  # (b, 2·d_inner, l)
            xc, z = xz.chunk(2, dim=1)  # (b, d_inner, l) each
            u = F.silu(self.conv1d(xc)[..., :L])  # causal: the right padding is cut off
            dt_low, B, C = self.x_proj(u.transpose(1, 2)).split([dt_rank, n, n], dim=-1)  # (b, l, ·)
            delta = (dt_low @ self.dt_proj.weight.t()).transpose(1, 2)  # (b, d_inner, l), bias inside the scan
            A = -torch.exp(self.A_log)  # (d_inner, n)
            y = scan_by_loop(torch, u, delta, A, B.transpose(1, 2), C.transpose(1, 2), self.D, z, self.dt_proj.bias)
            return self.out_proj(y.transpose(1, 2))  # (b, l, d_model)

    return MambaBlock(), d_inner


def mamba_case(torch, dims, gen):
    b, L, d_model, expand, n, d_conv = (dims[k] for k in ("b", "l", "d_model", "expand", "n", "d_conv"))
    block, d_inner = make_mamba_block(torch, d_model, expand, n, d_conv, gen)
    params = list(block.parameters())

    def fn(x, *_params):  # the block reads its own parameters; they are inputs for the gradients
        return block(x)

    inputs = [torch.randn(b, L, d_model, generator=gen), *params]
    shape = f"b={b} l={L} d_model={d_model} d_inner={d_inner} n={n} d_conv={d_conv}"
    return shape, fn, inputs, torch.randn(b, L, d_model, generator=gen), None


CASES = {
    "s4_layer": s4_case,
    "causal_conv": causal_conv_case,
    "selective_scan": selective_scan_case,
    "depthwise_conv1d": depthwise_case,
    "mamba_block": mamba_case,
}


# ---- Running ----------------------------------------------------------------------------------------


def time_op(torch, op, dims, seed, quick, threads):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # module initializers draw from the global generator
    shape, fn, inputs, r, note = CASES[op](torch, dims, gen)
    for x in inputs:
        x.requires_grad_(True)

    def forward():
        with torch.no_grad():
            fn(*inputs)

    def forward_backward():
        # Seeding the backward pass with r gives the gradients of Σ y·r.
        torch.autograd.grad(fn(*inputs), inputs, grad_outputs=r)

    fwd_ms, fwd_reps = median_ms(forward, quick)
    fwd_bwd_ms, fwd_bwd_reps = median_ms(forward_backward, quick)
    row = {
        "op": op, "shape": shape, "fwd_ms": round(fwd_ms, 3), "fwd_bwd_ms": round(fwd_bwd_ms, 3),
        "reps": {"fwd": fwd_reps, "fwd_bwd": fwd_bwd_reps},
        "torch": torch.__version__, "device": "cpu", "threads": threads,
    }
    if note:
        row["note"] = note
    return row


def kernel_check(torch, file):
    """The S4 kernel (and layer) of the parameters in a JSON file, float32, as the timed path computes it."""
    with open(file, encoding="utf-8") as f:
        spec = json.load(f)
    t = lambda key: torch.tensor(spec[key], dtype=torch.float32)  # noqa: E731
    cplx = lambda name: torch.complex(t(name + "_re"), t(name + "_im"))  # noqa: E731
    L = int(spec["L"])
    with torch.no_grad():
        pairs = bool(spec.get("pairs", True))  # one mode of each conjugate pair, else all modes
        K = s4_kernel(torch, cplx("Lambda"), cplx("P"), cplx("B"), cplx("C"), t("log_dt"), L, pairs=pairs)  # (h, L)
        out = {"K": K.tolist()}
        if "u" in spec:
            u = t("u")  # (b, h, L)
            out["y"] = (fft_causal_conv(torch, u, K) + t("D")[:, None] * u).tolist()
    print(json.dumps(out))


def main(argv):
    args = parse_args(argv)
    torch = load_torch()
    if args.kernel_check:
        kernel_check(torch, args.kernel_check)
        return 0
    threads = args.threads or core_count()
    torch.set_num_threads(threads)
    failed = False
    for op in args.only:
        dims = {**(SMALL_DIMS if args.small else DIMS)[op], **args.dims}
        try:
            row = time_op(torch, op, dims, args.seed, args.quick, torch.get_num_threads())
        except Exception as e:  # one op failing must not hide the others
            row = {"op": op, "error": f"{type(e).__name__}: {e}"}
            failed = True
        print(json.dumps(row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
