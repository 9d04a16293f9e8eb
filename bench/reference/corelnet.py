"""PyTorch reference for bench/compare.mjs: CoRelNet (conv encoder, context normalisation,
similarity matrix Z Z^T, masked row softmax, MLP decoder) on the relational tasks same-diff and
identity rules, written from our src/core/relational/ (models.ts, layers.ts, trials.ts, tasks.ts).

Modes `check` and `time`: see harness.py. Both need --exchange: `time` samples its trials from
the object images exported there (the training split's objects of our procedural glyph set,
which our task draws once when it is built; regenerating the glyphs in NumPy would need our
seeded generator bit for bit and would not change what a step costs).

Conventions shared with our TypeScript side: float32 throughout; inputs [B, T, 32, 32, 1] (NHWC,
one channel: the same bytes as NCHW [B*T, 1, 32, 32]); dense kernels exported [in, out] (nn.Linear
stores [out, in]); conv kernels exported as ours stores them, [4 * 4 * in, out] (tf.conv2d's
[4, 4, in, out] flattened), converted on load to nn.Conv2d's [out, in, 4, 4]; convolutions 4 x 4,
stride 2, padding 1 on every side (ours passes that explicit padding, not 'same'); the encoder's
last feature map flattened in NHWC order as ours; one-hot targets, loss = mean softmax
cross-entropy; Adam with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8). In `time` the model
keeps PyTorch's default initialisation (the weights' values do not change what a step costs).
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import harness  # bench/reference/harness.py, beside this script

OBJECT_SIZE = 32
OBJECT_FEATURES = 128
CONTEXT_NORM_EPS = 1e-8  # layers.ts ContextNorm, as the reference code
# Our task names -> (objects per trial, classes); segments are the whole sequence for both.
LAYOUTS = {"same-diff": (2, 2), "identity-rules": (9, 4)}


class StridedConv(nn.Conv2d):
    """4 x 4, stride 2, padding 1 (32 -> 16 -> 8 -> 4). Loads our kernel, which harness.py hands over
    transposed as [out, 4 * 4 * in] in (kernel row, kernel column, in) order."""

    def __init__(self, inputs, outputs):
        super().__init__(inputs, outputs, kernel_size=4, stride=2, padding=1)

    def _load_from_state_dict(self, state_dict, prefix, *args):
        key = prefix + "weight"
        if state_dict[key].dim() == 2:
            flat = state_dict[key].view(self.out_channels, 4, 4, self.in_channels)
            state_dict[key] = flat.permute(0, 3, 1, 2).contiguous()
        super()._load_from_state_dict(state_dict, prefix, *args)


class ObjectEncoder(nn.Module):
    """[N, 1, 32, 32] -> [N, 128]: three convs with ReLU, then fc 512 -> 256 -> 128 with ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2, self.conv3 = StridedConv(1, 32), StridedConv(32, 32), StridedConv(32, 32)
        self.fc1 = nn.Linear(4 * 4 * 32, 256)
        self.fc2 = nn.Linear(256, OBJECT_FEATURES)

    def forward(self, images):
        x = images
        for conv in (self.conv1, self.conv2, self.conv3):
            x = torch.relu(conv(x))
        # Ours flattens [N, 4, 4, 32] (NHWC); fc1's rows are in that order.
        flat = x.permute(0, 2, 3, 1).reshape(x.shape[0], 4 * 4 * 32)
        return torch.relu(self.fc2(torch.relu(self.fc1(flat))))


class ContextNorm(nn.Module):
    """Each feature normalised across the sequence (mean 0, unbiased variance 1), then gain and bias."""

    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))

    def forward(self, z):
        centred = z - z.mean(1, keepdim=True)
        variance = centred.square().sum(1, keepdim=True) / (z.shape[1] - 1)
        return centred / (variance + CONTEXT_NORM_EPS).sqrt() * self.gamma + self.beta


def lower_triangle_selector(length):
    """[T*T, T(T+1)/2] 0/1 matrix picking (0,0), (1,0), (1,1), (2,0), ... as ours does (a product,
    not an index: same values, same gradient, and the same operation as ours)."""
    rows = [i * length + j for i in range(length) for j in range(i + 1)]
    selector = torch.zeros(length * length, len(rows))
    selector[rows, torch.arange(len(rows))] = 1
    return selector


class CoRelNet(nn.Module):
    """Symmetric CoRelNet with context normalisation and the masked row softmax, no concatObjects."""

    def __init__(self, length, classes):
        super().__init__()
        self.length = length
        self.encoder = ObjectEncoder()
        self.contextnorm = ContextNorm(OBJECT_FEATURES)
        self.register_buffer("upper", torch.ones(length, length).triu(1).bool(), persistent=False)
        self.register_buffer("selector", lower_triangle_selector(length), persistent=False)
        self.decoder = nn.Sequential(nn.Linear(self.selector.shape[1], 256), nn.ReLU(), nn.Linear(256, classes))

    def forward(self, inputs):
        b, t = inputs.shape[0], self.length
        images = inputs.reshape(b * t, 1, OBJECT_SIZE, OBJECT_SIZE)  # one channel: NHWC = NCHW
        z = self.contextnorm(self.encoder(images).view(b, t, OBJECT_FEATURES))
        similarity = torch.softmax((z @ z.transpose(1, 2)).masked_fill(self.upper, float("-inf")), dim=-1)
        return self.decoder(similarity.reshape(b, t * t) @ self.selector)


def cross_entropy(logits, one_hot):
    """Mean softmax cross-entropy against one-hot targets (ours: src/core/relational/crossEntropy.ts)."""
    return -(one_hot * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def check_workload(workload):
    """This reference covers one configuration; anything else would compare different computations."""
    task, model, objective = workload["task"], workload["model"], workload.get("objective", {})
    wanted = [
        (task.get("name") in LAYOUTS, True), (task.get("objectSet"), "procedural"), (model["name"], "corelnet"),
        (model["normalisation"], "masked-softmax"), (model["asymmetric"], False), (model["concatObjects"], False),
        (model["contextNorm"], True), (objective.get("name"), "cross-entropy"),
    ]
    for got, expected in wanted:
        if got != expected:
            raise SystemExit(f"bench/reference/corelnet.py: covers {expected!r}, got {got!r} in {workload}")


def build_model(workload):
    check_workload(workload)
    return CoRelNet(*LAYOUTS[workload["task"]["name"]])


class TrialBatches:
    """Trials over the exported objects as our trials.ts draws them, vectorised; then the images
    gathered from the pool and the labels one-hot (ours: RelationalTask.batch)."""

    def __init__(self, task, objects, seed):
        self.task, self.objects = task["name"], objects.numpy()  # [P, 32, 32]
        self.length, self.classes = LAYOUTS[self.task]
        self.rng = np.random.default_rng(seed)

    def batch(self, size):
        indices, labels = (self.same_diff if self.task == "same-diff" else self.identity_rules)(size)
        inputs = self.objects[indices][..., None]  # [B, T, 32, 32, 1]
        return torch.from_numpy(inputs), torch.from_numpy(np.eye(self.classes, dtype=np.float32)[labels])

    def distinct(self, size, count):
        """`count` distinct pool objects per trial, in random order: [B, count]."""
        return self.rng.random((size, len(self.objects))).argsort(axis=1)[:, :count]

    def same_diff(self, size):
        """Half the trials [a, a] (label 0), half [a, b] with b != a (label 1)."""
        pair = self.distinct(size, 2)
        different = self.rng.random(size) >= 0.5
        pair[:, 1] = np.where(different, pair[:, 1], pair[:, 0])
        return pair, different.astype(np.int64)

    def identity_rules(self, size):
        """Row 1 AAA, ABA or ABB, row 2 the same rule's first two with new objects (b, b or c, d),
        four options (a, b, c, d shuffled); the label is where the answer landed."""
        a, b, c, d = self.distinct(size, 4).T
        rule = self.rng.integers(3, size=size)  # 0 AAA, 1 ABA, 2 ABB
        row1 = np.stack([a, np.where(rule == 0, a, b), np.where(rule == 2, b, a)], axis=1)
        row2 = np.stack([np.where(rule == 0, b, c), np.where(rule == 0, b, d)], axis=1)
        answer = np.select([rule == 0, rule == 1], [b, c], d)
        options = np.take_along_axis(np.stack([a, b, c, d], axis=1), self.rng.random((size, 4)).argsort(axis=1), axis=1)
        return np.concatenate([row1, row2, options], axis=1), (options == answer[:, None]).argmax(axis=1)


class Reference:
    script = "bench/reference/corelnet.py"
    loss = staticmethod(cross_entropy)

    @staticmethod
    def model_for_check(manifest):
        return build_model(manifest["workload"])

    @staticmethod
    def model_and_batches(workload, seed, exchange):
        if exchange is None or "objects" not in exchange[0]:
            raise SystemExit("bench/reference/corelnet.py: time needs --exchange with the object images (objects)")
        manifest, take = exchange
        return build_model(workload), TrialBatches(workload["task"], take(manifest["objects"]), seed)


if __name__ == "__main__":
    sys.exit(harness.main(__doc__.splitlines()[0], Reference))
