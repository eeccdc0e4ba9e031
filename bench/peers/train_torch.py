"""PyTorch (CPU) peer for bench/train: the MNIST deep autoencoder 784-1000-500-250-30 mirrored,
sigmoid cross-entropy (summed over pixels, mean over the batch), one Adam step on a batch of 1000
random [0, 1] images. NET "tanh" (default, the task mnist-autoencoder): tanh hidden units, a linear
code layer, L2 1e-5 in the gradient; "sigmoid" (mnist-autoencoder-sigmoid): sigmoid units, no L2.
Prints JSON {"adam_step_s": [...], "threads": n}.

usage: train_torch.py STEPS [NET]
"""
import json
import sys
import time

import torch

torch.manual_seed(0)
sizes = [784, 1000, 500, 250, 30, 250, 500, 1000, 784]
net = sys.argv[2] if len(sys.argv) > 2 else "tanh"
layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2 and not (net == "tanh" and sizes[i + 1] == 30):
        layers.append(torch.nn.Tanh() if net == "tanh" else torch.nn.Sigmoid())
model = torch.nn.Sequential(*layers)
# Adam's weight_decay adds η·θ to the gradient: the L2 term ½η‖θ‖² of riesz's objective.
opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5 if net == "tanh" else 0)
x = torch.rand(1000, 784)


def step():
    opt.zero_grad()
    logits = model(x)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    loss.backward()
    opt.step()
    return loss.item()


step()
times = []
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
print(json.dumps({"adam_step_s": times, "threads": torch.get_num_threads()}))
