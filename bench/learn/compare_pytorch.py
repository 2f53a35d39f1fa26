#!/usr/bin/env python3
"""PyTorch side of bench/learn/compare_pytorch.sh: trains the same MLP (784-256-128-10,
batch 64, SGD lr 0.05 momentum 0.9, one thread) on in-memory random data and prints the
median samples/s of several timed runs as JSON. Batches are gathered by index from a
60000-example tensor, as grapevine's trainer gathers them from its shard."""
import json
import sys
import time

import torch


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    torch.set_num_threads(1)
    torch.manual_seed(0)
    n, batch = 60000, 64
    x = torch.randn(n, 784)
    y = torch.randint(0, 10, (n,))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(count):
        perm = torch.randperm(n)
        for i in range(count):
            idx = perm[(i * batch) % (n - batch):][:batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()

    run(50)  # warm-up
    rates, cpu_rates = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        run(steps)
        rates.append(steps * batch / (time.perf_counter() - start))
        cpu_rates.append(steps * batch / (time.process_time() - cpu_start))
    rates.sort()
    cpu_rates.sort()
    print(json.dumps({"torch": torch.__version__, "samples_per_second": rates[len(rates) // 2],
                      "samples_per_cpu_second": cpu_rates[len(cpu_rates) // 2],
                      "runs": rates}))


if __name__ == "__main__":
    main()
