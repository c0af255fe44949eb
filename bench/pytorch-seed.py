"""PyTorch baseline for `npm run bench:train`: the seed MNIST net, one thread.

Same network as SEED_MNIST_MODEL (conv 5x5 32 same + relu, max-pool 2,
conv 5x5 64 same + relu, max-pool 2, dense 1024 relu, dropout 0.25, dense 10
softmax), Adam 0.001, cross-entropy, synthetic uniform pixels and random
labels, the same batch every step. Prints one JSON line per measurement on
stdout:

  {"kind": "info", "torch": "1.13.0a0", "threads": 1, "mkldnn": true}
  {"kind": "train", "layout": "nchw", "batchSize": 128, "msPerBatch": [...]}
  {"kind": "predict", "layout": "nchw", "batchSize": 128, "msPerBatch": [...]}
  {"kind": "sgemm", "n": 1024, "gflops": 98.5}        (with --sgemm N)

--layout nchw is what a plain PyTorch script does; channels_last keeps
activations NHWC, the layout of our engines (PyTorch's oneDNN convolutions
are faster on it here).

Run with Debian's interpreter (/usr/bin/python3 with python3-torch) and
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 in the environment.
"""

import argparse
import json
import sys
import time

import torch
import torch.nn as nn


def seed_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.25), nn.Linear(1024, 10),
    )


def timed(step, warmup: int, batches: int, max_seconds: float) -> list:
    for _ in range(warmup):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < batches and (not times or time.perf_counter() - start < max_seconds):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def sgemm_gflops(n: int, reps: int = 5) -> float:
    a, b = torch.rand(n, n), torch.rand(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--predict-batch-size", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--layout", choices=["nchw", "channels_last"], default="nchw")
    parser.add_argument("--sgemm", type=int, nargs="*", default=None, help="only measure torch.mm at these sizes")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    info = {"kind": "info", "torch": torch.__version__, "threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available()}
    print(json.dumps(info), flush=True)
    if args.sgemm is not None:
        for n in args.sgemm:
            print(json.dumps({"kind": "sgemm", "n": n, "gflops": sgemm_gflops(n)}), flush=True)
        return

    fmt = torch.channels_last if args.layout == "channels_last" else torch.contiguous_format
    torch.manual_seed(1)
    model = seed_net().to(memory_format=fmt)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    xs = torch.rand(args.batch_size, 1, 28, 28).to(memory_format=fmt)
    ys = torch.randint(0, 10, (args.batch_size,))

    model.train()

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs), ys)
        loss.backward()
        optimizer.step()

    times = timed(train_step, args.warmup, args.batches, args.max_seconds)
    print(json.dumps({"kind": "train", "layout": args.layout, "batchSize": args.batch_size, "msPerBatch": times}), flush=True)

    model.eval()
    px = torch.rand(args.predict_batch_size, 1, 28, 28).to(memory_format=fmt)

    def predict_step() -> None:
        with torch.no_grad():
            torch.softmax(model(px), dim=1)

    times = timed(predict_step, args.warmup, args.batches, args.max_seconds)
    print(json.dumps({"kind": "predict", "layout": args.layout, "batchSize": args.predict_batch_size, "msPerBatch": times}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
