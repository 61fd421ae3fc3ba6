#!/usr/bin/env python3
"""Loads one Mamba layer of a checkpoint into PyTorch modules shaped like the reference block.

Usage: torch_mamba_load.py CHECKPOINT LAYER INPUT_JSON
  INPUT_JSON holds {"x": flat floats, "shape": [b, l, d_model]}.
Prints JSON {"in_proj": flat floats of in_proj(x), "mixer": flat floats of the whole block on x}.
Exit status 3 when torch is not installed.

The modules mirror the reference block's parameters (names, shapes, bias flags) and nothing
else; the forward pass is the plain sequential form of the selective scan, written here so that
the check does not depend on the TypeScript implementation or on mamba_ssm.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from read_checkpoint import read_checkpoint  # noqa: E402

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("torch is not installed\n")
    sys.exit(3)


class MambaShaped(nn.Module):
    """The reference block's parameters: in_proj, conv1d (depthwise), x_proj, dt_proj, A_log, D, out_proj."""

    def __init__(self, d_model, d_inner, n, d_conv, dt_rank):
        super().__init__()
        self.n, self.dt_rank, self.d_conv = n, dt_rank, d_conv
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv1d = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=d_conv - 1, bias=True)
        self.x_proj = nn.Linear(d_inner, dt_rank + 2 * n, bias=False)
        self.dt_proj = nn.Linear(dt_rank, d_inner, bias=True)
        self.A_log = nn.Parameter(torch.zeros(d_inner, n))
        self.D = nn.Parameter(torch.ones(d_inner))
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)

    def forward(self, x):  # x: (b, l, d_model)
        b, l, _ = x.shape
        xs, z = self.in_proj(x).chunk(2, dim=-1)  # (b, l, d_inner) each
        u = F.silu(self.conv1d(xs.transpose(1, 2))[..., :l])  # causal: (b, d_inner, l)
        dt, B, C = torch.split(self.x_proj(u.transpose(1, 2)), [self.dt_rank, self.n, self.n], dim=-1)
        delta = F.softplus(self.dt_proj(dt))  # (b, l, d_inner)
        A = -torch.exp(self.A_log)  # (d_inner, n)
        h = torch.zeros(b, A.shape[0], self.n, dtype=x.dtype)
        ys = []
        for t in range(l):
            d = delta[:, t, :, None]  # (b, d_inner, 1)
            h = torch.exp(d * A) * h + d * B[:, t, None, :] * u[:, :, t, None]
            ys.append((h * C[:, t, None, :]).sum(-1) + self.D * u[:, :, t])
        y = torch.stack(ys, dim=1) * F.silu(z)  # (b, l, d_inner)
        return self.out_proj(y)


def main(argv):
    path, layer, input_file = argv[1], int(argv[2]), argv[3]
    _, tensors = read_checkpoint(path)
    prefix = "backbone.layers.%d.mixer." % layer
    state = {}
    for name, (dtype, shape, values) in tensors.items():
        if name.startswith(prefix):
            state[name[len(prefix):]] = torch.tensor(values, dtype=torch.float64).reshape(shape)
    d_inner, n = state["A_log"].shape
    block = MambaShaped(
        d_model=state["in_proj.weight"].shape[1], d_inner=d_inner, n=n,
        d_conv=state["conv1d.weight"].shape[2], dt_rank=state["dt_proj.weight"].shape[1],
    ).double()
    block.load_state_dict(state, strict=True)
    with open(input_file) as f:
        given = json.load(f)
    x = torch.tensor(given["x"], dtype=torch.float64).reshape(given["shape"])
    with torch.no_grad():
        out = {"in_proj": block.in_proj(x).flatten().tolist(), "mixer": block(x).flatten().tolist()}
    if not all(math.isfinite(v) for v in out["mixer"]):
        raise ValueError("the block's output is not finite")
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
