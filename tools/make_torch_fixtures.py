#!/usr/bin/python3
"""Writes the PyTorch parity fixtures under tests/fixtures/, one safetensors file per layer.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/make_torch_fixtures.py [--out tests/fixtures]

Each file holds, per case, the inputs, the weights, a random upstream gradient
`dy`, PyTorch's output and its gradients (`dx`, `dweight`, ...); the case's
settings are in the file's __metadata__ as "<case>.<setting>". The tests in
tests/torch/ load them with Nebula's own reader and need no Python. The output
is deterministic: fixed seeds, one thread, and a writer that emits the same
bytes for the same tensors.

Dropout: torch draws its mask from its own generator, Nebula from Philox keyed
by (seed, offset). The dropout fixture keeps torch's real output (to pin the
scale 1/(1-p)) and a mask computed here with Nebula's Philox, which the test
checks bit for bit against Nebula's; the whole-network fixture applies that
Philox mask in torch, so the network matches end to end with dropout on.
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GENERATOR = "tools/make_torch_fixtures.py"


# ---------------------------------------------------------------- safetensors


def write_safetensors(path, tensors, metadata):
    """The format by hand: u64 header length, JSON header, raw little-endian F32 data."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        array = np.ascontiguousarray(value.detach().cpu().numpy() if torch.is_tensor(value) else value,
                                     dtype="<f4")
        data = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


class Fixture:
    def __init__(self, name):
        self.name = name
        self.tensors = {}
        self.metadata = {"generator": GENERATOR, "torch_version": torch.__version__.split("+")[0]}

    def put(self, case, **tensors):
        for key, value in tensors.items():
            name = f"{case}.{key}"
            assert name not in self.tensors, name
            self.tensors[name] = value.detach().clone() if torch.is_tensor(value) else value

    def meta(self, case, **settings):
        for key, value in settings.items():
            self.metadata[f"{case}.{key}"] = value

    def save(self, out_dir):
        path = os.path.join(out_dir, f"{self.name}.safetensors")
        write_safetensors(path, self.tensors, self.metadata)
        return path


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float32) * scale


# ---------------------------------------------------------------- Nebula's generators, for dropout masks

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def splitmix64_first(seed):
    """The first next_u64() of engine/random.h's Generator after manual_seed(seed)."""
    z = (seed + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def philox_uniform(seed, offset, n):
    """kernels/philox.h: Philox4x32-10 on counter offset + i, key seed; word 0 to [0, 1)."""
    counter = np.arange(n, dtype=np.uint64) + np.uint64(offset)
    c0 = counter & np.uint64(MASK32)
    c1 = counter >> np.uint64(32)
    c2 = np.zeros(n, dtype=np.uint64)
    c3 = np.zeros(n, dtype=np.uint64)
    k0, k1 = seed & MASK32, (seed >> 32) & MASK32
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK32)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return (c0 >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def philox_keep_mask(seed, offset, shape, rate):
    keep = philox_uniform(seed, offset, int(np.prod(shape))) >= np.float32(rate)
    return torch.from_numpy(keep.reshape(shape).astype(np.float32))


# ---------------------------------------------------------------- layers


def same_padding(size, kernel, stride):
    """Keras/TensorFlow 'same': ceil(in/stride) outputs, the odd pixel of padding after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d_fixture():
    fx = Fixture("torch_conv2d")
    # (case, x shape, out channels, kernel, stride, padding: "valid" | "same" | explicit int, bias)
    cases = [
        ("valid", (2, 3, 7, 9), 4, 3, 1, "valid", True),
        ("valid_stride2_no_bias", (2, 3, 9, 8), 5, 3, 2, "valid", False),
        ("same_stride1", (2, 3, 7, 6), 4, 3, 1, "same", True),
        ("same_stride1_even_kernel", (2, 2, 6, 7), 3, 4, 1, "same", True),
        ("same_stride2", (2, 3, 8, 7), 4, 3, 2, "same", True),
        ("same_stride2_odd", (1, 2, 9, 11), 3, 5, 2, "same", False),
        ("pad1_stride2", (2, 3, 9, 9), 4, 3, 2, 1, True),
        ("pad3_stride2_7x7", (1, 3, 16, 15), 4, 7, 2, 3, False),
        ("pointwise_stride2", (2, 4, 7, 7), 6, 1, 2, 0, False),
    ]
    for case, shape, out_ch, k, stride, padding, bias in cases:
        x = leaf(randn(*shape))
        w = leaf(randn(out_ch, shape[1], k, k, scale=0.3))
        b = leaf(randn(out_ch, scale=0.1)) if bias else None
        if padding == "valid":
            y = F.conv2d(x, w, b, stride=stride)
        elif padding == "same":
            top, bottom = same_padding(shape[2], k, stride)
            left, right = same_padding(shape[3], k, stride)
            y = F.conv2d(F.pad(x, (left, right, top, bottom)), w, b, stride=stride)
        else:
            y = F.conv2d(x, w, b, stride=stride, padding=padding)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, weight=w, y=y, dy=dy, dx=x.grad, dweight=w.grad)
        if bias:
            fx.put(case, bias=b, dbias=b.grad)
        fx.meta(case, stride=stride, padding=padding, bias=int(bias))
    return fx


def maxpool2d_fixture():
    fx = Fixture("torch_maxpool2d")
    # Random normal values: ties inside a window have probability ~0, so the argmax is unambiguous.
    for case, shape, k, stride, pad in [("k2_s2", (2, 3, 8, 9), 2, 2, 0), ("k3_s2_pad1", (2, 3, 9, 10), 3, 2, 1),
                                        ("k3_s2_pad1_even", (1, 2, 8, 8), 3, 2, 1)]:
        x = leaf(randn(*shape))
        y = F.max_pool2d(x, k, stride, pad)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, y=y, dy=dy, dx=x.grad)
        fx.meta(case, kernel=k, stride=stride, pad=pad)
    return fx


def dense_fixture():
    fx = Fixture("torch_dense")
    for case, n, fin, fout, bias in [("bias", 4, 10, 6, True), ("no_bias", 3, 7, 5, False)]:
        x = leaf(randn(n, fin))
        w = leaf(randn(fout, fin, scale=0.3))
        b = leaf(randn(fout, scale=0.1)) if bias else None
        y = F.linear(x, w, b)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, weight=w, y=y, dy=dy, dx=x.grad, dweight=w.grad)
        if bias:
            fx.put(case, bias=b, dbias=b.grad)
        fx.meta(case, bias=int(bias))
    return fx


def activation_fixture(name, fn):
    fx = Fixture(name)
    x = leaf(randn(3, 4, 5, 6, scale=2.0))  # no exact zeros, so relu's kink is not met
    y = fn(x)
    dy = randn(*y.shape)
    y.backward(dy)
    fx.put("main", x=x, y=y, dy=dy, dx=x.grad)
    return fx


def batchnorm2d_fixture():
    fx = Fixture("torch_batchnorm2d")
    for case, shape, training, momentum in [("train", (4, 3, 5, 5), True, 0.1), ("train_momentum_0.01", (3, 2, 4, 6), True, 0.01),
                                            ("eval", (4, 3, 5, 5), False, 0.1)]:
        channels = shape[1]
        x = leaf(randn(*shape, scale=2.0) + 0.5)
        gamma = leaf(1.0 + randn(channels, scale=0.2))
        beta = leaf(randn(channels, scale=0.2))
        running_mean = randn(channels, scale=0.3)
        running_var = torch.rand(channels) + 0.5
        fx.put(case, x=x, weight=gamma, bias=beta, running_mean=running_mean, running_var=running_var)
        rm, rv = running_mean.clone(), running_var.clone()
        y = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=1e-5)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, y=y, dy=dy, dx=x.grad, dweight=gamma.grad, dbias=beta.grad,
               running_mean_after=rm, running_var_after=rv)
        fx.meta(case, training=int(training), momentum=momentum, eps=1e-5)
    return fx


def global_avg_pool_fixture():
    fx = Fixture("torch_global_avg_pool")
    x = leaf(randn(2, 5, 4, 3))
    y = F.adaptive_avg_pool2d(x, 1).flatten(1)
    dy = randn(*y.shape)
    y.backward(dy)
    fx.put("main", x=x, y=y, dy=dy, dx=x.grad)
    return fx


def add_fixture():
    fx = Fixture("torch_add")
    a, b = leaf(randn(2, 3, 4, 5)), leaf(randn(2, 3, 4, 5))
    y = a + b
    dy = randn(*y.shape)
    y.backward(dy)
    fx.put("main", a=a, b=b, y=y, dy=dy, da=a.grad, db=b.grad)
    return fx


def residual_fixture():
    """torchvision's BasicBlock with a stride-2 downsample, in train mode, then the final ReLU."""
    fx = Fixture("torch_residual")

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + self.downsample(x))

    block = BasicBlock(3, 4, 2)
    with torch.no_grad():
        for name, p in block.named_parameters():
            p.copy_(randn(*p.shape, scale=0.3) + (1.0 if name.endswith("bn1.weight") or name.endswith("bn2.weight")
                                                  or name == "downsample.1.weight" else 0.0))
    state = {k: v.clone() for k, v in block.state_dict().items() if not k.endswith("num_batches_tracked")}
    x = leaf(randn(2, 3, 9, 9))
    block.train()
    y = block(x)
    dy = randn(*y.shape)
    y.backward(dy)
    fx.put("main", x=x, y=y, dy=dy, dx=x.grad)
    for name, value in state.items():
        fx.tensors[f"param.{name}"] = value
    for name, p in block.named_parameters():
        fx.tensors[f"grad.{name}"] = p.grad.clone()
    for name, b in block.named_buffers():
        if not name.endswith("num_batches_tracked"):
            fx.tensors[f"after.{name}"] = b.clone()
    return fx


def flatten_fixture():
    fx = Fixture("torch_flatten")
    x = leaf(randn(2, 3, 4, 5))
    y = torch.flatten(x, 1)
    dy = randn(*y.shape)
    y.backward(dy)
    fx.put("main", x=x, y=y, dy=dy, dx=x.grad)
    return fx


def dropout_fixture():
    fx = Fixture("torch_dropout")
    for case, rate, seed, offset in [("rate_0.5", 0.5, 1234, 0), ("rate_0.2", 0.2, 0x9E3779B97F4A7C15, 5 << 32)]:
        x = leaf(randn(8, 4, 16, 8) + 3.0 * torch.sign(randn(1)))  # no exact zeros: a zero output means dropped
        y = F.dropout(x, rate, training=True)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, dy=dy, torch_y=y, torch_dx=x.grad,
               nebula_mask=philox_keep_mask(seed, offset, tuple(x.shape), rate))
        fx.meta(case, rate=rate, seed=seed, offset=offset)
    return fx


def mse_fixture():
    fx = Fixture("torch_mse")
    p = leaf(torch.rand(5, 37))
    t = torch.rand(5, 37)
    loss = F.mse_loss(p, t)
    loss.backward()
    fx.put("main", prediction=p, target=t, loss=loss.reshape(1), dprediction=p.grad)
    return fx


# ---------------------------------------------------------------- optimizers


def grad_sequence(shapes, steps):
    """Gradients whose scale jumps around, so exp_inf takes both sides of its max."""
    scales = [1.0, 0.1, 2.0, 0.01, 0.5, 3.0, 0.05, 1.0, 0.001, 1.5]
    return [[randn(*s, scale=scales[k % len(scales)]) for s in shapes] for k in range(steps)]


def adamax_torch_fixture():
    lr, betas, eps, steps = 0.01, (0.9, 0.999), 1e-8, 10
    return optimizer_fixture("torch_adamax", lambda params: torch.optim.Adamax(params, lr=lr, betas=betas, eps=eps),
                             ["exp_avg", "exp_inf"], steps, lr=lr, beta1=betas[0], beta2=betas[1], eps=eps)


def optimizer_fixture(name, make, slots, steps=10, **settings):
    """Ten steps of a torch.optim optimizer on two tensors, as torch_adamax."""
    fx = Fixture(name)
    shapes = [(3, 4), (5,)]
    params = [leaf(randn(*s)) for s in shapes]
    for i, p in enumerate(params):
        fx.tensors[f"p{i}.initial"] = p.detach().clone()
    opt = make(params)
    for k, grads in enumerate(grad_sequence(shapes, steps)):
        for i, (p, g) in enumerate(zip(params, grads)):
            p.grad = g.clone()
            fx.tensors[f"p{i}.grad.{k}"] = g
        opt.step()
        for i, p in enumerate(params):
            fx.tensors[f"p{i}.after.{k}"] = p.detach().clone()
    for i, p in enumerate(params):
        for slot in slots:
            fx.tensors[f"p{i}.{slot}"] = opt.state[p][slot].clone()
    fx.metadata.update(steps=steps, params=len(params), **settings)
    return fx


def adam_fixture():
    lr, wd = 0.01, 0.1
    return optimizer_fixture("torch_adam", lambda p: torch.optim.Adam(p, lr=lr, weight_decay=wd),
                             ["exp_avg", "exp_avg_sq"], lr=lr, weight_decay=wd)


def adamw_fixture():
    lr, wd = 0.01, 0.1  # a large decay, so that a coupled (Adam) rule would fail the test
    return optimizer_fixture("torch_adamw", lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=wd),
                             ["exp_avg", "exp_avg_sq"], lr=lr, weight_decay=wd)


def sgd_fixture(name, nesterov):
    lr, momentum, wd = 0.05, 0.9, 0.01
    return optimizer_fixture(
        name, lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov),
        ["momentum_buffer"], lr=lr, momentum=momentum, weight_decay=wd, nesterov=int(nesterov))


def lr_schedule_fixture():
    """torch.optim.lr_scheduler's own learning rates, stepped once per batch
    (cosine, warm-up) or per epoch (step), kept as exact decimal text."""
    fx = Fixture("torch_lr_schedules")
    base = 0.1

    def rates(make, count):
        opt = torch.optim.SGD([leaf(torch.zeros(1))], lr=base)
        scheduler = make(opt)
        out = []
        for _ in range(count):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return ",".join(repr(r) for r in out)

    S = torch.optim.lr_scheduler
    epochs, batches, warmup = 6, 7, 2
    # cosine over every step of the run
    fx.meta("cosine", epochs=epochs, batches=batches, warmup=0,
            lr=rates(lambda o: S.CosineAnnealingLR(o, T_max=epochs * batches), epochs * batches))
    # linear warm-up over 2 epochs' steps, then cosine over the steps left
    w = warmup * batches
    fx.meta("warmup_cosine", epochs=epochs, batches=batches, warmup=warmup,
            lr=rates(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=1.0 / w, end_factor=1.0, total_iters=w - 1),
                                                  S.CosineAnnealingLR(o, T_max=(epochs - warmup) * batches)],
                                              milestones=[w]), epochs * batches))
    # StepLR, stepped once per epoch
    fx.meta("step", epochs=12, step_epochs=3, gamma=0.5,
            lr=rates(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12))
    fx.metadata.update(base_lr=repr(base))
    fx.tensors["base_lr"] = torch.tensor([base])
    return fx


def resnet_init_fixture():
    """torchvision's own ResNet-18 initialisation, summarised: each conv weight's
    sample mean and standard deviation (kaiming_normal_, fan_out, relu), batch
    norm's 1 and 0, and nn.Linear's default bound from fc's largest |w| and |b|.
    The draws differ from Nebula's generator, so the test compares the laws."""
    import torchvision
    fx = Fixture("torchvision_resnet18_init")
    model = torchvision.models.resnet18()
    for name, p in model.state_dict().items():
        if name.endswith("num_batches_tracked") or "running" in name:
            continue
        values = p.double()
        fx.meta(name, mean=repr(values.mean().item()), std=repr(values.std().item()),
                max_abs=repr(values.abs().max().item()), count=values.numel())
    fx.metadata.update(keys=",".join(k for k in model.state_dict() if "running" not in k and "num_batches" not in k))
    fx.tensors["fc.bias"] = model.fc.bias.detach().clone()
    return fx

def adamax_keras_fixture():
    """Keras's own Adamax (the study's optimizer), stepped by Keras on the JAX backend.

    Keras is not a Debian package: install it beside Debian's PyTorch only to
    write this fixture (the tests need no Python), e.g.
        python3 -m venv --system-site-packages /tmp/keras && /tmp/keras/bin/pip install keras "jax[cpu]"
        /tmp/keras/bin/python tools/make_torch_fixtures.py --only keras_adamax
    Without Keras the fixture is left as it is."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError:
        print("keras_adamax: Keras is not installed here; the fixture is left as it is")
        return None
    fx = Fixture("keras_adamax")
    lr, beta1, beta2, eps, steps = 0.01, 0.9, 0.999, 1e-7, 10
    shapes = [(3, 4), (5,)]
    # Through lists: Keras's JAX wants NumPy 2, which Debian's PyTorch cannot hand tensors to.
    as_array = lambda t: np.array(t.tolist(), dtype=np.float32)
    initial = [as_array(randn(*s)) for s in shapes]
    variables = [keras.Variable(p.copy(), dtype="float32") for p in initial]
    optimizer = keras.optimizers.Adamax(learning_rate=lr, beta_1=beta1, beta_2=beta2, epsilon=eps)
    for i, p in enumerate(initial):
        fx.tensors[f"p{i}.initial"] = p.copy()
    for k, grads in enumerate(grad_sequence(shapes, steps)):
        grads = [as_array(g) for g in grads]
        optimizer.apply_gradients(list(zip(grads, variables)))
        for i, g in enumerate(grads):
            fx.tensors[f"p{i}.grad.{k}"] = g.copy()
            fx.tensors[f"p{i}.after.{k}"] = np.asarray(variables[i].value, np.float32).copy()
    for i, v in enumerate(variables):
        index = optimizer._get_variable_index(v)
        fx.tensors[f"p{i}.exp_avg"] = np.asarray(optimizer._m[index].value, np.float32).copy()
        fx.tensors[f"p{i}.exp_inf"] = np.asarray(optimizer._u[index].value, np.float32).copy()
    fx.metadata.update(lr=lr, beta1=beta1, beta2=beta2, eps=eps, steps=steps, params=len(shapes),
                       keras_version=keras.__version__, keras_backend=keras.backend.backend())
    return fx


# ---------------------------------------------------------------- whole network


class PhiloxDropout(nn.Module):
    """Inverted dropout with Nebula's mask: Philox(seed, calls << 32), as engine/layers.cpp draws it."""

    def __init__(self, rate, seed):
        super().__init__()
        self.rate, self.seed, self.calls = rate, seed, 0

    def forward(self, x):
        mask = philox_keep_mask(self.seed, self.calls << 32, tuple(x.shape), self.rate)
        self.calls += 1
        return x * mask * (1.0 / (1.0 - self.rate))


def cnn1_fixture():
    """The study's cnn1 with the filters and the hidden layer scaled down by 8 and a 62x62 input:
    4 x (conv 3x3 valid + ReLU + maxpool 2), flatten, dropout 0.5, dense + ReLU, dense 37 + sigmoid,
    MSE, two steps of Adamax (torch's rule). Nebula builds the same Sequential, so the names agree."""
    fx = Fixture("torch_cnn1")
    dropout_seed_key = 20240601  # the test calls manual_seed(this) right before it constructs the Dropout
    rate = 0.5
    filters, hidden, outputs, size, batch = [4, 8, 16, 16], 32, 37, 62, 2
    layers, cin = [], 3
    for f in filters:
        layers += [nn.Conv2d(cin, f, 3), nn.ReLU(), nn.MaxPool2d(2)]
        cin = f
    spatial = size
    for _ in filters:
        spatial = (spatial - 2) // 2
    dropout = PhiloxDropout(rate, splitmix64_first(dropout_seed_key))
    layers += [nn.Flatten(), dropout, nn.Linear(cin * spatial * spatial, hidden), nn.ReLU(),
               nn.Linear(hidden, outputs), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight"):
                nn.init.xavier_uniform_(p)  # Keras's Glorot-uniform
            else:
                p.copy_(randn(*p.shape, scale=0.05))
    for name, p in model.named_parameters():
        fx.tensors[f"param.{name}"] = p.detach().clone()
    x = torch.rand(batch, 3, size, size)
    target = torch.rand(batch, outputs)
    fx.tensors["x"] = x
    fx.tensors["target"] = target
    lr, eps = 1e-3, 1e-7
    opt = torch.optim.Adamax(model.parameters(), lr=lr, eps=eps)
    steps = 2
    for k in range(steps):
        opt.zero_grad()
        y = model(x)
        loss = F.mse_loss(y, target)
        loss.backward()
        fx.tensors[f"step{k}.y"] = y.detach().clone()
        fx.tensors[f"step{k}.loss"] = loss.detach().reshape(1).clone()
        for name, p in model.named_parameters():
            fx.tensors[f"step{k}.grad.{name}"] = p.grad.clone()
        opt.step()
    for name, p in model.named_parameters():
        fx.tensors[f"final.{name}"] = p.detach().clone()
    fx.metadata.update(dropout_seed_key=dropout_seed_key, dropout_rate=rate, lr=lr, eps=eps, steps=steps,
                       filters=",".join(map(str, filters)), hidden=hidden, outputs=outputs, size=size,
                       batch=batch)
    return fx


# Dieleman, Willett & Dambre (2015): the Galaxy Zoo 2 decision tree, as the
# Kaggle challenge publishes it: (question, its answers, the answer leading to it).
GALAXY_TREE = [
    (1, ["1.1", "1.2", "1.3"], None), (2, ["2.1", "2.2"], "1.2"), (3, ["3.1", "3.2"], "2.2"),
    (4, ["4.1", "4.2"], "2.2"), (5, ["5.1", "5.2", "5.3", "5.4"], "2.2"), (6, ["6.1", "6.2"], None),
    (7, ["7.1", "7.2", "7.3"], "1.1"), (8, ["8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7"], "6.1"),
    (9, ["9.1", "9.2", "9.3"], "2.1"), (10, ["10.1", "10.2", "10.3"], "4.1"),
    (11, ["11.1", "11.2", "11.3", "11.4", "11.5", "11.6"], "4.1"),
]


def galaxy_tree_output(x, columns):
    """Each question's answers made non-negative and normalised, times the parent answer.

    eps = 1e-12 is added to the sum and shared among the answers, so a question whose
    answers are all clipped gives the even split (Dieleman adds it to the sum alone)."""
    r = torch.relu(x)
    out = [None] * len(columns)
    for _, answers, parent in GALAXY_TREE:
        names = ["Class" + a for a in answers]
        if names[0] not in columns:
            continue
        index = [columns.index(n) for n in names]
        total = sum(r[:, j:j + 1] for j in index) + 1e-12
        scale = 1.0 if parent is None else out[columns.index("Class" + parent)]
        for j in index:
            out[j] = (r[:, j:j + 1] + 1e-12 / len(index)) / total * scale
    return torch.cat(out, dim=1)


def galaxy_tree_fixture():
    fx = Fixture("torch_galaxy_tree")
    sample = ["Class1.1", "Class1.2", "Class1.3", "Class2.1", "Class2.2", "Class6.1", "Class6.2", "Class7.1",
              "Class7.2", "Class7.3", "Class8.1", "Class8.2", "Class8.3", "Class8.4", "Class8.5", "Class8.6", "Class8.7"]
    kaggle = ["Class" + a for _, answers, _ in GALAXY_TREE for a in answers]
    shuffled = list(reversed(kaggle))  # columns in another order than the questions'
    for case, columns, rows in [("sample17", sample, 6), ("kaggle37", kaggle, 5), ("reversed37", shuffled, 4)]:
        x = leaf(randn(rows, len(columns)))  # about half negative: clipped answers, and some whole questions
        y = galaxy_tree_output(x, columns)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, y=y, dy=dy, dx=x.grad)
        fx.meta(case, columns=",".join(columns))
    return fx


def turned_45(x):
    """The 45-degree turn of Nebula's Dieleman views, in PyTorch's own sampler."""
    c = math.sqrt(0.5)
    theta = torch.tensor([[c, -c, 0.0], [c, c, 0.0]], dtype=x.dtype).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def dihedral(x, view):
    """view % 4 quarter turns counter-clockwise, then for views 4..7 a left-right flip."""
    y = torch.rot90(x, view % 4, dims=(2, 3))
    return torch.flip(y, dims=(3,)) if view >= 4 else y


def views_of(x, kind, size):
    count = {"rotations": 4, "dihedral": 8, "dieleman": 16}[kind]
    views = [dihedral(turned_45(x) if v >= 8 else x, v % 8)[:, :, :size, :size] for v in range(count)]
    return torch.cat(views, dim=0)  # view-major: every image's view 0, then view 1, ...


def views_fixture():
    fx = Fixture("torch_views")
    for case, kind, shape, size in [("dihedral", "dihedral", (2, 3, 5, 5), 5), ("rotations", "rotations", (2, 2, 6, 6), 4),
                                    ("dieleman", "dieleman", (2, 3, 11, 11), 7),
                                    ("dieleman_even", "dieleman", (1, 2, 16, 16), 10),
                                    ("dieleman_model", "dieleman", (1, 1, 23, 23), 15)]:
        x = leaf(randn(*shape))
        y = views_of(x, kind, size)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, y=y, dy=dy, dx=x.grad)
        fx.meta(case, kind=kind, size=size)
    return fx


def view_merge_fixture():
    fx = Fixture("torch_view_merge")
    for case, views, batch, features in [("concat", 16, 3, 5), ("mean", 8, 2, 7)]:
        x = leaf(randn(views * batch, features))
        per_view = x.view(views, batch, features)
        y = per_view.permute(1, 0, 2).reshape(batch, views * features) if case == "concat" else per_view.mean(0)
        dy = randn(*y.shape)
        y.backward(dy)
        fx.put(case, x=x, y=y, dy=dy, dx=x.grad)
        fx.meta(case, views=views)
    return fx


def maxout_fixture():
    fx = Fixture("torch_maxout")
    batch, features, pieces = 4, 6, 3
    x = leaf(randn(batch, features * pieces))
    y = x.view(batch, features, pieces).max(dim=-1).values
    dy = randn(*y.shape)
    y.backward(dy)
    fx.put("main", x=x, y=y, dy=dy, dx=x.grad)
    fx.meta("main", pieces=pieces)
    return fx


def bf16_rounding_fixture():
    """PyTorch's own float32 -> bfloat16 -> float32 round trip, over magnitudes and ties."""
    fx = Fixture("torch_bf16_rounding")
    base = torch.logspace(-30, 30, 1500, dtype=torch.float64).float()
    ties = (1.0 + torch.arange(0, 128, dtype=torch.float32) / 128 + 1.0 / 256) * 4.0  # exactly halfway cases
    x = torch.cat([base, -base, ties, -ties, randn(500)])
    fx.put("main", x=x, y=x.bfloat16().float())
    return fx


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "tests", "fixtures"))
    parser.add_argument("--only", help="write just this fixture (e.g. torch_galaxy_tree)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    makers = [("torch_conv2d", conv2d_fixture), ("torch_maxpool2d", maxpool2d_fixture), ("torch_dense", dense_fixture),
              ("torch_relu", lambda: activation_fixture("torch_relu", torch.relu)),
              ("torch_sigmoid", lambda: activation_fixture("torch_sigmoid", torch.sigmoid)),
              ("torch_batchnorm2d", batchnorm2d_fixture), ("torch_global_avg_pool", global_avg_pool_fixture),
              ("torch_add", add_fixture), ("torch_residual", residual_fixture), ("torch_flatten", flatten_fixture),
              ("torch_dropout", dropout_fixture), ("torch_mse", mse_fixture), ("torch_adamax", adamax_torch_fixture),
              ("keras_adamax", adamax_keras_fixture), ("torch_cnn1", cnn1_fixture),
              ("torch_galaxy_tree", galaxy_tree_fixture), ("torch_adam", adam_fixture),
              ("torch_adamw", adamw_fixture), ("torch_sgd", lambda: sgd_fixture("torch_sgd", False)),
              ("torch_sgd_nesterov", lambda: sgd_fixture("torch_sgd_nesterov", True)),
              ("torch_lr_schedules", lr_schedule_fixture), ("torchvision_resnet18_init", resnet_init_fixture),
              ("torch_views", views_fixture), ("torch_view_merge", view_merge_fixture),
              ("torch_maxout", maxout_fixture), ("torch_bf16_rounding", bf16_rounding_fixture)]
    total = 0
    for seed, (name, make) in enumerate(makers):
        if args.only and name != args.only:
            continue
        torch.manual_seed(1000 + seed)  # each fixture its own seed: adding one changes no other
        fixture = make()
        if fixture is None:
            continue
        path = fixture.save(args.out)
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path, root)}: {size} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
