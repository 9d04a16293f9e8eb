"""The part every PyTorch reference of bench/compare.mjs shares: the exchange files, the 10-step
loss check and the timed loop, and the command line. A reference script gives its model, batches
and loss; this module runs them the same way for every workload.

  check  load our exported initial weights and first batches, train on them, report the losses
  time   train on freshly generated batches (generation included) and report steps per second;
         with --exchange, the reference may draw its data from it (corelnet: our object images)
"""
import argparse
import ctypes
import json
import os
import sys
import time

import numpy as np
import torch


def load_exchange(directory):
    with open(os.path.join(directory, "exchange.json")) as f:
        manifest = json.load(f)
    blob = np.fromfile(os.path.join(directory, "exchange.bin"), dtype="<f4")
    take = lambda entry: torch.from_numpy(blob[entry["offset"]:entry["offset"] + int(np.prod(entry["shape"]))]
                                          .reshape(entry["shape"]).copy())
    return manifest, take


def our_state(entries, take):
    """Our exported parameters as a PyTorch state dict: our kernels are [in, out], nn.Linear stores [out, in]."""
    state = {}
    for entry in entries:
        tensor, name = take(entry), entry["name"]
        if name.endswith(".kernel"):
            state[name[: -len(".kernel")] + ".weight"] = tensor.t().contiguous()
        else:
            state[name] = tensor
    return state


def load_our_weights(model, manifest, take, script):
    """Names must match one to one."""
    state = our_state(manifest["parameters"], take)
    differ = set(model.state_dict()) ^ set(state)
    if differ:
        raise SystemExit(f"{script}: parameter names differ from ours: {sorted(differ)}")
    model.load_state_dict(state)


def train_step(model, optimizer, loss_of, inputs, targets):
    loss = loss_of(model(inputs), targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def warn_unless_blas_threads(threads):
    """torch.set_num_threads does not limit Debian's OpenBLAS (pthreads), whose own pool (one thread
    per core) runs the dense products; only OPENBLAS_NUM_THREADS, read at load, does (compare.mjs
    sets it)."""
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(threads):
        print(f"harness.py: OPENBLAS_NUM_THREADS is {os.environ.get('OPENBLAS_NUM_THREADS')!r}, not {threads}: "
              "the dense products may use more threads than --threads", file=sys.stderr)


def keep_freed_memory():
    """glibc's malloc gives freed blocks of 128 KB and more back to the kernel (munmap, heap
    trimming), so each step page-faults its activations in again: steps 3-6x slower here, and
    bimodal, as the heap's layout sometimes avoids it. Freed memory is kept instead, as the
    allocators PyTorch recommends on CPU (jemalloc, tcmalloc) do; ours (wasm) never returns its heap."""
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    # mmap only above 32 MB (glibc's largest threshold; no tensor here is that large), never trim.
    if not (libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)):
        raise SystemExit("harness.py: mallopt refused the thresholds")


def check(args, reference):
    """Same initial weights, same batches: the losses of the first steps."""
    manifest, take = load_exchange(args.exchange)
    workload = manifest["workload"]
    model = reference.model_for_check(manifest)
    load_our_weights(model, manifest, take, reference.script)
    optimizer = torch.optim.Adam(model.parameters(), lr=workload["learningRate"])
    losses = [train_step(model, optimizer, reference.loss, take(entry["inputs"]), take(entry["targets"])).item()
              for entry in manifest["batches"]]
    print(json.dumps({"losses": losses}))


def timed(args, reference):
    workload = json.loads(args.workload)
    torch.set_num_threads(args.threads)
    warn_unless_blas_threads(args.threads)
    if not args.default_malloc:
        keep_freed_memory()
    torch.manual_seed(args.seed)
    exchange = load_exchange(args.exchange) if args.exchange else None
    model, batches = reference.model_and_batches(workload, args.seed, exchange)
    optimizer = torch.optim.Adam(model.parameters(), lr=workload["learningRate"])
    batch_size, log_every = workload["batchSize"], args.log_every
    loss_sum, seen, marks, cpu_marks = torch.zeros(()), 0, {}, {}
    for step in range(1, args.warmup + args.steps + 1):
        if hasattr(batches, "step"):  # a reference whose batches its model draws (the sampler's trajectories)
            loss = batches.step(model, optimizer, batch_size)
        else:
            loss = train_step(model, optimizer, reference.loss, *batches.batch(batch_size))
        loss_sum += loss.detach()
        seen += 1
        if step % log_every == 0:
            last_loss = loss_sum.item() / seen  # the only read of the loss, as on our side
            loss_sum, seen = torch.zeros(()), 0
            marks[step] = time.perf_counter()
            cpu_marks[step] = time.process_time()  # every thread of the process
    start, end = args.warmup, args.warmup + args.steps
    if start not in marks or end not in marks:
        raise SystemExit(f"{reference.script}: warmup and steps must be multiples of log-every")
    print(json.dumps({
        "threads": args.threads,
        "stepsPerSecond": args.steps / (marks[end] - marks[start]),
        "cpuSecondsPerStep": (cpu_marks[end] - cpu_marks[start]) / args.steps,
        "lastLoss": last_loss,
        "torch": torch.__version__,
    }))


def main(description, reference):
    """`reference` has: script (its path, for messages), loss(output, targets),
    model_for_check(manifest) and model_and_batches(workload, seed, exchange) (exchange: None or
    (manifest, take) of --exchange; batches.batch(size) -> (inputs, targets) as tensors). A
    reference whose batches come from its own model (the sampler) gives instead its own
    check(args, reference), and batches.step(model, optimizer, size) -> loss, a whole step."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("mode", choices=["check", "time"])
    parser.add_argument("--exchange", help="folder with exchange.json and exchange.bin (check; time, where the reference draws data from it)")
    parser.add_argument("--workload", help="time: the workload as JSON (task, model, objective, batchSize, learningRate)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--default-malloc", action="store_true", help="time: glibc's malloc as it comes (see keep_freed_memory)")
    args = parser.parse_args()
    getattr(reference, "check", check)(args, reference) if args.mode == "check" else timed(args, reference)
