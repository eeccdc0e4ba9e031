"""NumPy peer for bench/kernels: median seconds of an n×n matrix product in f64 and f32.
usage: matmul_numpy.py N REPEATS   → JSON {"f64": s, "f32": s}"""
import json
import sys
import time

import numpy as np

n, reps = int(sys.argv[1]), int(sys.argv[2])
out = {}
for name, dt in (("f64", np.float64), ("f32", np.float32)):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dt)
    a @ a
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ a
        ts.append(time.perf_counter() - t)
    out[name] = sorted(ts)[reps // 2]
print(json.dumps(out))
