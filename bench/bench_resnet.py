"""The example's ResNet (npfast.nn.ResNet(3, 10), batch 64 of 32x32x3 float32): one training step
(forward, loss, backward, SGD with momentum) and the eval-mode forward, npfast against the same
network in torch eager mode, calls interleaved (npfast, torch, torch, npfast, ...) in one process,
each after the process has gone quiet (the report's timing).

    PYTHONPATH=build/dev/python python bench/bench_resnet.py [--threads 2] [--rounds 15]
                                                              [--cpu-time]

Prints the median and minimum time per call of each and the ratio torch / npfast of the
medians. --cpu-time times with time.process_time instead of the wall clock: on a loaded machine
a descheduled process accrues no CPU time, so one-thread figures stay comparable (with two
threads CPU time counts both threads and spin-waits, so use the wall clock there).
`python -m npfast bench --only train-step` times the same network (also per phase).
"""

import argparse
import time

import numpy as np

import npfast
from npfast import nn
from npfast._bench.timing import samples
from npfast._bench.train_step import torch_resnet


def interleaved(fa, fb, rounds, clock):
    """Seconds per call of fa and fb in `rounds` interleaved rounds, timed as the report times
    every row (npfast._bench.timing.samples): before each sample the process goes quiet, so
    neither library pays for the other's still-spinning worker threads (torch's OpenMP workers
    spin ~4-5 ms after a call and held the second core through npfast's next forward:
    docs/nn.md, inf2)."""
    got = samples({"a": fa, "b": fb}, 0, rounds, rounds, clock=clock)
    return np.array(got["a"]), np.array(got["b"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--cpu-time", action="store_true")
    args = ap.parse_args()
    import torch

    npfast.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    rng = np.random.default_rng(0)
    model = nn.ResNet(3, 10, rng=0)
    x = rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, args.batch)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.SGD(model, lr=0.01, momentum=0.9)
    net = torch_resnet(model)
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
    topt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def np_step():
        loss_fn.forward(model.forward(x), labels)
        model.backward(loss_fn.backward(), input_grad=False)
        opt.step()

    def t_step():
        topt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(tx), ty).backward()
        topt.step()

    def t_inference():
        with torch.no_grad():
            net(tx)

    print(f"threads {args.threads}, batch {args.batch}, "
          f"{'CPU time' if args.cpu_time else 'wall time'}, {args.rounds} rounds")
    for name, fa, fb, prep in (("training step", np_step, t_step, None),
                               ("inference forward", lambda: model.forward(x), t_inference,
                                lambda: (model.eval(), net.eval()))):
        if prep:
            prep()
        for _ in range(2):
            fa()
            fb()
        ta, tb = interleaved(fa, fb, args.rounds, clock)
        print(f"{name:18s} npfast {np.median(ta) * 1e3:7.2f} ms (min {ta.min() * 1e3:7.2f})  "
              f"torch {np.median(tb) * 1e3:7.2f} ms (min {tb.min() * 1e3:7.2f})  "
              f"ratio {np.median(tb) / np.median(ta):.2f}x")


if __name__ == "__main__":
    main()
