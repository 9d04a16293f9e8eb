"""bench/weights-pytorch.mjs's PyTorch side: a safetensors file written by `model-lab weights export`
loaded into the reference module with load_state_dict(strict=True), and its loss on the batch our
side wrote (bench/lib/weightsPytorch.ts), and the largest difference from our probe (CoRelNet's
raw similarity, else the output) relative to its largest entry. Prints one JSON line.

  python3 bench/reference/weights_check.py --file model.safetensors --dir OUT --reference corelnet|posterior

The safetensors file is read by hand (the `safetensors` package is not in Debian): an unsigned
64-bit little-endian header length, a JSON header {key: {dtype, shape, data_offsets}, __metadata__},
then the tensors' bytes; export writes F32 only.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

import corelnet  # bench/reference/, beside this script
import posterior

REFERENCES = {"corelnet": corelnet, "posterior": posterior}


def read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for key, entry in header.items():
        if entry["dtype"] != "F32":
            raise SystemExit(f"weights_check.py: {key} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
        tensors[key] = torch.from_numpy(values.copy())
    return tensors, metadata


def probe(name, model, inputs):
    """What bench/lib/weightsPytorch.ts writes to probe.bin: CoRelNet's raw similarity Z Z^T (its
    loss hides the encoder: the masked softmax saturates), else the model's output."""
    if name != "corelnet":
        return model(inputs)
    b, t = inputs.shape[0], model.length
    z = model.contextnorm(model.encoder(inputs.reshape(b * t, 1, 32, 32)).view(b, t, -1))
    return z @ z.transpose(1, 2)


def relative_difference(ours, theirs):
    return ((ours - theirs).abs().max() / theirs.abs().max()).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--reference", choices=sorted(REFERENCES), required=True)
    args = parser.parse_args()
    reference = REFERENCES[args.reference]

    with open(os.path.join(args.dir, "batch.json")) as f:
        manifest = json.load(f)
    blob = np.fromfile(os.path.join(args.dir, "batch.bin"), dtype="<f4")
    inputs_size = int(np.prod(manifest["inputs"]))
    inputs = torch.from_numpy(blob[:inputs_size].reshape(manifest["inputs"]).copy())
    targets = torch.from_numpy(blob[inputs_size:].reshape(manifest["targets"]).copy())
    ours = torch.from_numpy(np.fromfile(os.path.join(args.dir, "probe.bin"), dtype="<f4"))

    tensors, metadata = read_safetensors(args.file)
    model = reference.build_model(manifest["workload"])
    expected = model.state_dict()
    # strict=True: every key of the reference present, none extra; shapes must match too.
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        loss = reference.Reference.loss(model(inputs), targets).item()
        probe_difference = relative_difference(ours, probe(args.reference, model, inputs).reshape(-1))
    # The same file with its first weight matrix read in a wrong layout of the same shape (flipped
    # along its last axis): the loss must move, or the comparison would not see a layout mistake.
    wrong = dict(tensors)
    key = next(k for k, t in tensors.items() if t.dim() >= 2)
    wrong[key] = tensors[key].flip(-1)
    model.load_state_dict(wrong, strict=True)
    with torch.no_grad():
        wrong_loss = reference.Reference.loss(model(inputs), targets).item()
        wrong_probe_difference = relative_difference(ours, probe(args.reference, model, inputs).reshape(-1))
    print(json.dumps({
        "loss": loss,
        "wrongLayoutKey": key,
        "wrongLayoutLoss": wrong_loss,
        "probeRelative": probe_difference,
        "wrongLayoutProbeRelative": wrong_probe_difference,
        "keys": len(tensors),
        "referenceKeys": len(expected),
        "reference": metadata.get("reference"),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())
