"""PyTorch (CPU) peer for bench/train: the MNIST deep autoencoder 784-1000-500-250-30 mirrored,
sigmoid cross-entropy (summed over pixels, mean over the batch), Adam steps on one batch.

NET "tanh" (default, the task mnist-autoencoder): tanh hidden units, a linear code layer, L2 1e-5
in the gradient; "sigmoid" (mnist-autoencoder-sigmoid): sigmoid units, no L2. Without SPEC the
weights are PyTorch's own initialisation and the batch is 1000 random [0, 1] images.

SPEC (JSON, bench/peers/problem.ts's PeerProblem less the arrays) gives riesz's problem instead:
{"file": PATH, "sizes": [...], "activations": ["tanh", ..., "identity"], "batch": B, "lr": LR,
"l2": L2}, PATH holding raw little-endian f32 W0 b0 W1 b1 ... then the batch (W as [out, in], the
layout of torch.nn.Linear).

Prints JSON {"adam_step_s": [...], "threads": n, "loss0": data loss at the initial weights,
"loss1": after one Adam step on the batch}. The two first steps are not timed.

usage: train_torch.py STEPS [NET] [SPEC]
"""
import json
import sys
import time

import numpy as np
import torch

torch.manual_seed(0)
steps = int(sys.argv[1])
net = sys.argv[2] if len(sys.argv) > 2 else "tanh"
spec = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None

if spec is None:
    sizes = [784, 1000, 500, 250, 30, 250, 500, 1000, 784]
    acts = [("tanh" if net == "tanh" else "sigmoid") for _ in sizes[1:]]
    if net == "tanh":
        acts[sizes.index(30) - 1] = "identity"
    acts[-1] = "identity"
    batch, lr, l2 = 1000, 1e-3, (1e-5 if net == "tanh" else 0.0)
else:
    sizes, acts = spec["sizes"], spec["activations"]
    batch, lr, l2 = spec["batch"], spec["lr"], spec["l2"]

layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if acts[i] == "tanh":
        layers.append(torch.nn.Tanh())
    elif acts[i] == "sigmoid":
        layers.append(torch.nn.Sigmoid())
model = torch.nn.Sequential(*layers)

if spec is None:
    x = torch.rand(batch, sizes[0])
else:
    data = np.fromfile(spec["file"], dtype="<f4")
    at = 0
    with torch.no_grad():
        for lin in (m for m in model if isinstance(m, torch.nn.Linear)):
            for p in (lin.weight, lin.bias):
                n = p.numel()
                p.copy_(torch.from_numpy(data[at : at + n].copy()).reshape(p.shape))
                at += n
    x = torch.from_numpy(data[at : at + batch * sizes[0]].copy()).reshape(batch, sizes[0])
    if at + batch * sizes[0] != data.size:
        sys.exit(f"train_torch.py: {spec['file']} holds {data.size} floats, expected {at + batch * sizes[0]}")

# Adam's weight_decay adds l2·θ to the gradient: the L2 term ½·l2‖θ‖² of riesz's objective.
opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-8, weight_decay=l2)


def step():
    opt.zero_grad()
    logits = model(x)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    loss.backward()
    opt.step()
    return loss.item()


loss0 = step()
loss1 = step()
times = []
for _ in range(steps):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
print(json.dumps({"adam_step_s": times, "threads": torch.get_num_threads(), "loss0": loss0, "loss1": loss1}))
