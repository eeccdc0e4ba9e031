"""PyTorch peer for bench/gpu: the same measurements as riesz's side, in eager f32.

On CUDA with TF32 off (matmul and cuDNN), else on the CPU with a note (then the ratios compare a
GPU, or SwiftShader, with a CPU: they say only that both sides ran). Reads one JSON argument:
  {"batches": [1000, 8192], "steps": 10, "sizes": [1024, ...], "net": [784, ...], "hot": {"batch": 1000, "n": 1000}}
and prints one JSON object: device, note, step_ms {adam|muon: {batch: ms}}, hot_ms {op: ms},
matmul {N: {"ms": ms, "tflops": t}}.

The model is the MNIST deep autoencoder 784-1000-500-250-30 mirrored, tanh, linear code, sigmoid
cross-entropy summed over pixels and averaged over the batch, on random [0, 1] images. Muon here is
Nesterov momentum, the quintic Newton–Schulz polar factor (5 steps) on every 2-D weight, scaled
sqrt(max(1, rows/cols)); biases take Adam's step.
"""
import json
import sys
import time

import torch

cfg = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
cuda = torch.cuda.is_available()
dev = torch.device("cuda" if cuda else "cpu")
if cuda:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
note = "CUDA f32, TF32 off" if cuda else "no CUDA here: PyTorch on the CPU (ratios only show both sides ran)"
torch.manual_seed(0)
SIZES = cfg.get("net", [784, 1000, 500, 250, 30, 250, 500, 1000, 784])
CODE = min(SIZES)


def sync():
    if cuda:
        torch.cuda.synchronize()


def timed(fn, steps):
    fn()
    sync()
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        sync()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return out[len(out) // 2]


def model():
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(torch.nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2 and SIZES[i + 1] != CODE:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers).to(dev)


def ns_quintic(G, steps=5):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (G.norm() + 1e-7)
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr=0.02, momentum=0.95):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                st = self.state[p]
                m = st.setdefault("m", torch.zeros_like(p))
                m.mul_(g["momentum"]).add_(p.grad)
                u = p.grad.add(m, alpha=g["momentum"])
                o = ns_quintic(u) * max(1, p.shape[0] / p.shape[1]) ** 0.5
                p.add_(o, alpha=-g["lr"])


def step_ms(kind, batch, steps):
    net = model()
    ws = [p for p in net.parameters() if p.ndim == 2]
    bs = [p for p in net.parameters() if p.ndim != 2]
    opts = [torch.optim.Adam(net.parameters(), lr=1e-3)] if kind == "adam" else [Muon(ws), torch.optim.Adam(bs, lr=1e-3)]
    x = torch.rand(batch, SIZES[0], device=dev)

    def step():
        for o in opts:
            o.zero_grad()
        logits = net(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
        loss.backward()
        for o in opts:
            o.step()

    return timed(step, steps)


def hot_ms(batch, n, steps):
    a = torch.rand(batch, n + 1, device=dev)
    G = torch.randn(n, n + 1, device=dev)
    A = a.T @ a / batch + 0.1 * torch.eye(n + 1, device=dev)
    Ainv = torch.linalg.inv(A)
    Ginv = torch.linalg.inv(G @ G.T / (n + 1) + 0.1 * torch.eye(n, device=dev))
    W = torch.randn(n, round(n * 0.784), device=dev)

    def ns_inverse(M, iters=10):
        X = torch.eye(M.shape[0], device=dev) / M.norm()
        for _ in range(iters):
            X = X + X @ (torch.eye(M.shape[0], device=dev) - M @ X)
        return X

    return {
        "factor_statistics": timed(lambda: a.T @ a / batch, steps),
        "newton_schulz_polar": timed(lambda: ns_quintic(W), steps),
        "newton_schulz_inverse_10": timed(lambda: ns_inverse(A), steps),
        "precondition": timed(lambda: Ginv @ G @ Ainv, steps),
    }


def matmul(sizes, steps):
    out = {}
    for n in sizes:
        a = torch.randn(n, n, device=dev)
        b = torch.randn(n, n, device=dev)
        ms = timed(lambda: a @ b, steps)
        out[str(n)] = {"ms": ms, "tflops": 2 * n**3 / (ms / 1000) / 1e12}
    return out


steps = int(cfg.get("steps", 10))
batches = cfg.get("batches", [1000, 8192])
res = {
    "device": torch.cuda.get_device_name(0) if cuda else "cpu",
    "note": note,
    "torch": torch.__version__,
    "step_ms": {k: {str(b): step_ms(k, b, steps) for b in batches} for k in ("adam", "muon")},
    "hot_ms": hot_ms(int(cfg.get("hot", {}).get("batch", 1000)), int(cfg.get("hot", {}).get("n", 1000)), steps),
    "matmul": matmul(cfg.get("sizes", [1024, 2048, 4096, 8192]), steps),
}
print(json.dumps(res))
