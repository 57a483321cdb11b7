"""GAN objectives: what the discriminator D and the generator G minimise.

``v`` is D's raw output (a logit, a critic value, an energy); ``E_r``/``E_f`` are means
over a real / fake batch. Every log-sigmoid is computed as ``-softplus(-v)``, so losses
stay finite for any finite ``v`` (float32 included).

>>> import cgan
>>> cgan.losses.available()[:3]
['minimax', 'non-saturating', 'f-gan:total-variation']
>>> loss = cgan.losses.get("wgan-gp", lambda_gp=10)
>>> d = loss.d_loss(D, real, fake, seed=0)    # a 0-d cgan.Tensor; d.backward() trains D
>>> g = loss.g_loss(D, G(z_tensor))

Options (keyword arguments of :func:`get`; any other keyword is a ValueError):

=================  ==========================================================
minimax, mmgan     label_smoothing=0 (one-sided: real target 1 - s)
non-saturating,    label_smoothing=0
nsgan
f-gan:<div>        generator_loss="saturating" (default; "alternative" for gan,
                   jensen-shannon(-weighted)) | "alternative" (see FGAN);
                   pi=0.5 (f-gan:jensen-shannon-weighted only)
lsgan              a=0, b=1, c=1
wgan               clip=0.01
wgan-gp            lambda_gp=10, one_sided=0
dragan             lambda_gp=10, perturb=0.5
hinge              (none)
ebgan              margin=1.0, pt_weight=0, code_layer=len(D)//2
loss-sensitive     lambda_ls=10, lambda_gp=10, lambda_real=0,
                   loss_output="linear" | "softplus" | "relu"
every objective    r1=gamma, r2=gamma: D's loss += gamma/2 E ||grad_x s(x)||^2 on
                   real data (R1) / fakes (R2), s = D's output (ebgan: the energy),
                   per-sample norms over all non-batch axes (Mescheder et al. 2018);
                   consistency=lambda (Wei et al. 2018 use 2), ct_margin=0.2: the
                   CT-GAN term lambda E max(0, d(D(x'), D(x'')) + 0.1 d(D_(x'), D_(x''))
                   - ct_margin) on two dropout forwards x', x'' of D on the real batch
                   (D must contain Dropout; D_ is the input of D's last layer when D is a
                   Sequential or MLP, and for any other module the 0.1 d(D_) part is
                   left out). Left out, these terms are off. The ``penalty`` column is
                   the sum of the unweighted penalties (the objective's own, R1, R2, CT).
                   Objectives written in Python take them too:
                   ``GAN(G, D, loss=Mine(), r1=10)`` or ``regularize(Mine(), r1=10)``.
=================  ==========================================================

For classifiers trained with cgan (e.g. the feature network of a Frechet distance):
``log_softmax(logits)`` and ``cross_entropy(logits, labels)``, built from differentiable
ops, so they backpropagate (twice, too) like any other cgan expression.
"""
import numpy as _np

from ._core import Tensor as _Tensor
from ._core import losses as _core
from ._core import ops as _ops
from ._core import tensor as _tensor
from . import defaults as _defaults
from .divergences import FORMULAS as _DIVERGENCE_FORMULAS

__all__ = ["available", "get", "regularize", "Objective", "RawOutputObjective", "log_softmax",
           "cross_entropy"]


def available():
    """Every canonical objective name (f-gan:<divergence> for all ten divergences)."""
    return list(_core.available())


class Objective:
    """A GAN objective. :func:`get` builds the built-in ones; subclass it for your own.

    Built-in objects: ``d_loss(D, real, fake, seed=0)`` is D's loss on a real and a fake
    batch, ``g_loss(D, fake)`` G's loss on a fake batch; both take NumPy arrays or
    cgan.Tensors (arrays are converted to D's dtype) and return a 0-d cgan.Tensor whose
    graph reaches D's parameters (and G's, when ``fake`` is a Tensor produced by G).
    ``seed`` drives the randomness of the gradient penalties.

    Your own objective: subclass, call ``super().__init__()``, and implement

    - ``d_loss(self, D, real, fake, rng)``: a 0-d Tensor, or a dict with ``"loss"`` (and
      optionally the floats ``"penalty"``, ``"divergence"`` for the training history).
      ``real`` and ``fake`` are Tensors (fake already cut from G's graph); ``rng`` is the
      GAN's seeded ``cgan.RNG``: draw from it (and only during the call) so runs repeat.
    - ``g_loss(self, D, fake)``: a 0-d Tensor; ``fake`` carries G's graph.
    - optionally ``after_d_step(self, D)`` (e.g. weight clipping), ``d_out_shape(self,
      data_shape)`` (default ``(1,)``), ``default_optimizer(self, discriminator)`` and
      ``get_config(self)`` (constructor keywords, so that a checkpoint can rebuild it).

    Then ``cgan.GAN(G, D, loss=MyObjective(...))``. The options every objective takes
    (``r1``, ``r2``, ``consistency``, ``ct_margin``; see the module docstring) apply to
    yours too, with the same double backward: ``cgan.GAN(G, D, loss=MyObjective(),
    r1=10)``, or :func:`regularize` to evaluate them outside a GAN. R1 / R2 differentiate
    ``D(x)``, or ``score(self, D, x)`` when you define it (one value per sample, (N, 1)).
    Gradient penalties written with
    ``cgan.grad(..., create_graph=True)`` are differentiated again for free. Two worked
    examples (both run in the test suite)::

        class R1(cgan.losses.Objective):
            \"\"\"Non-saturating GAN + (gamma/2) E_r ||grad D(x)||^2 (Mescheder et al. 2018).\"\"\"
            def __init__(self, gamma=10.0):
                super().__init__()
                self.gamma = gamma
            def get_config(self):
                return {"gamma": self.gamma}
            def d_loss(self, D, real, fake, rng):
                x = real.detach().requires_grad_()
                v_real = D(x)
                g, = cgan.grad(v_real.sum(), [x], create_graph=True)
                r1 = (g * g).sum(axis=tuple(range(1, g.ndim))).mean()
                game = cgan.ops.softplus(-v_real).mean() + cgan.ops.softplus(D(fake)).mean()
                return {"loss": game + 0.5 * self.gamma * r1, "penalty": r1.item()}
            def g_loss(self, D, fake):
                return cgan.ops.softplus(-D(fake)).mean()

        class RelativisticAverage(cgan.losses.Objective):
            \"\"\"RaGAN (Jolicoeur-Martineau 2018): each batch is judged against the
            other's mean critic value. G's loss needs real data too: the last real
            batch D saw is kept for it.\"\"\"
            def d_loss(self, D, real, fake, rng):
                self.real = real.detach()
                vr, vf = D(real), D(fake)
                return (cgan.ops.softplus(-(vr - vf.mean())).mean()
                        + cgan.ops.softplus(vf - vr.mean()).mean())
            def g_loss(self, D, fake):
                vr, vf = D(self.real), D(fake)
                return (cgan.ops.softplus(-(vf - vr.mean())).mean()
                        + cgan.ops.softplus(vr - vf.mean()).mean())
    """

    def __init__(self, core=None, options=None):
        self._core = core
        self.options = dict(options or {})

    @property
    def name(self):
        """The canonical name (an alias such as 'nsgan' resolves to 'non-saturating');
        a subclass's class name."""
        if self._core is None:
            return type(self).__name__
        return self._core.name

    def d_loss(self, D, real, fake, seed=0):
        """What D minimises on a real and a fake batch (a 0-d Tensor)."""
        return self._core.d_loss(D, real, fake, seed)[0]

    def d_loss_terms(self, D, real, fake, seed=0):
        """dict(loss=Tensor, penalty=float, divergence=float).

        penalty: the unweighted gradient penalty (wgan-gp, dragan), else NaN.
        divergence: what the current D estimates: E_r v - E_f v (wgan, wgan-gp),
        the variational bound of D_f (f-gan), log 2 - loss/2, the JSD bound
        (minimax, non-saturating without label smoothing, dragan), else NaN.
        """
        loss, penalty, divergence = self._core.d_loss(D, real, fake, seed)
        return {"loss": loss, "penalty": penalty, "divergence": divergence}

    def g_loss(self, D, fake):
        """What G minimises on a fake batch (a 0-d Tensor)."""
        return self._core.g_loss(D, fake)

    def after_d_step(self, D):
        """The constraint applied after each D update (weight clipping for wgan)."""
        if self._core is not None:
            self._core.after_d_step(D)

    def d_out_features(self, data_dim):
        """Width of D's output for data of width data_dim (data_dim for ebgan, else 1)."""
        return self._core.d_out_features(int(data_dim))

    def default_optimizer(self, discriminator=True):
        """dict(type=..., lr=..., betas=(b1, b2) or None): the optimizer ``cgan.GAN`` builds
        when none is given (the objective's row of ``cgan.defaults``; same for G and D; for
        a subclass: Adam 2e-4, betas (0.5, 0.999), Radford et al.'s; override it)."""
        if self._core is None:
            return {"type": "adam", "lr": 2e-4, "betas": (0.5, 0.999)}
        row = _defaults.table(self.name)
        return {"type": row.optimizer, "lr": row.lr, "betas": row.betas}

    def __repr__(self):
        if self._core is None:  # a subclass: its class and get_config(), as it is rebuilt
            config = self.get_config() if hasattr(self, "get_config") else {}
            args = ", ".join(f"{k}={v!r}" for k, v in config.items())
            return f"{type(self).__qualname__}({args})"
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"cgan.losses.get({self.name!r}{opts})"


class RawOutputObjective(Objective):
    """An objective that depends on D only through its raw outputs: the losses can be
    evaluated on given outputs. ``d_loss_raw(v_real, v_fake)``, ``g_loss_raw(v_fake)``
    take arrays or Tensors (pass Tensors with requires_grad to differentiate)."""

    def d_loss_raw(self, v_real, v_fake):
        """D's loss on raw outputs (a 0-d Tensor)."""
        return self._core.d_loss_raw(v_real, v_fake)

    def g_loss_raw(self, v_fake):
        """G's loss on raw outputs (a 0-d Tensor)."""
        return self._core.g_loss_raw(v_fake)

    def divergence_raw(self, v_real, v_fake):
        """D's estimate of the divergence (see d_loss_terms) from raw outputs, a float."""
        return self._core.divergence_raw(v_real, v_fake)


class Minimax(RawOutputObjective):
    """minimax (alias mmgan): Goodfellow et al. 2014, "Generative Adversarial Nets".

    D(x) = sigmoid(v). min_G max_D E_r log D(x) + E_f log(1 - D(G(z))):
      D minimises  E_r softplus(-v) + E_f softplus(v)
      G minimises  -E_f softplus(v)             (= E_f log(1 - D(G(z))))
    G's gradient vanishes when D confidently rejects the fakes (v_f << 0): the
    saturation that motivates the non-saturating loss. Option label_smoothing = s
    (Salimans et al. 2016, one-sided): the real target is 1 - s, i.e. the real term is
    (1 - s) softplus(-v) + s softplus(v). With the optimal D, -d_loss = 2 JSD - log 4.
    """


class NonSaturating(RawOutputObjective):
    """non-saturating (alias nsgan): Goodfellow et al. 2014, Sec. 3.

      D minimises  E_r softplus(-v) + E_f softplus(v)    (as minimax)
      G minimises  E_f softplus(-v)                      (= -E_f log D(G(z)))
    Same fixed point as minimax, strong gradients early in training. Option
    label_smoothing as for minimax.
    """


class FGAN(RawOutputObjective):
    """f-gan:<divergence>: Nowozin, Cseke & Tomioka 2016, "f-GAN".

    T(x) = g_f(v) with g_f the divergence's output activation, and
    F = E_r g_f(v) - E_f f*(g_f(v)) <= D_f(P_data || P_G)  (Fenchel bound, the lecture):
      D minimises  -F                       (F is the divergence estimate)
      G minimises  -E_f f*(g_f(v))          generator_loss="saturating" (the saddle point)
               or  -E_f g_f(v)              generator_loss="alternative" (Nowozin Sec. 3.2)
    f*(g_f(v)) is evaluated in closed stable forms (softplus, Lambert W of e^y).

    Which divergence G minimises. At the optimal critic T* = f'(u), u = p/q (P the data,
    Q the generator), the saturating loss has the gradient of D_f(P||Q) itself (envelope
    theorem: d/dq of -E_Q f*(T*) with T* held is f(u) - u f'(u), D_f's own derivative).
    The alternative loss -E_Q T* has the derivative -f'(u) in q, which is that of
    E_Q g(u) with (g(u)/u)' = f'(u)/u^2, i.e. of another divergence (P = data, Q = model):

      row                      alternative minimises                      default
      total-variation          TV(P, Q) itself (f' is constant piecewise) saturating
      kl                       KL(Q||P) (reverse: seeks a mode; -E_Q[1 + log(p/q)]
                               = KL(Q||P) - 1)                            saturating
      reverse-kl               1/2 chi^2(Q||P) = 1/2 E_P[(q/p - 1)^2]     saturating
      pearson                  2 KL(P||Q) (forward: covers)               saturating
      neyman                   1/3 (E_Q[(q/p)^2] - 1)                     saturating
      hellinger                2/3 (E_Q[(q/p)^(1/2)] - 1)                 saturating
      jeffrey                  KL(Q||P) + 1/2 chi^2(Q||P)                 saturating
      jensen-shannon, gan      KL(Q||P) - 2 JSD(P, Q) (Arjovsky & Bottou   alternative
                               2017, Thm 2.5: the non-saturating GAN)
      jensen-shannon-weighted  pi [KL(Q||P) - KL(Q||M) - pi/(1-pi) KL(P||M)],
                               M = pi P + (1-pi) Q                       alternative

    So the default minimises the row's own divergence (f-gan:kl covers a bimodal target,
    as maximum likelihood does), except on the last three rows: there the saturating loss
    is the minimax game that stalls while D wins (the lecture's point), and the default is
    the non-saturating one; pass generator_loss="saturating" for the JSD itself.
    tests/test_fgan_generator_loss.py checks every row of this table on a discrete example.
    f-gan:gan with the alternative loss is the non-saturating GAN; with the saturating loss
    it is minimax. Option pi (jensen-shannon-weighted only, default 0.5).
    On N(4, 1.25²) (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) every row
    lands within 0.3 of the mean and std except total-variation, whose bounded critic
    T = tanh(v)/2 gives G a weak signal (N(2.3, 0.65²)).
    """


class LSGAN(RawOutputObjective):
    """lsgan: Mao et al. 2017, "Least Squares Generative Adversarial Networks".

    Linear output, no sigmoid. Targets a (fake), b (real), c (what G wants D to say):
      D minimises  ½ E_r (v - b)² + ½ E_f (v - a)²
      G minimises  ½ E_f (v - c)²
    Defaults a=0, b=1, c=1 (the 0-1 coding); b - c = 1, b - a = 2 (a=-1, b=1, c=0)
    makes G minimise the Pearson χ² divergence between P_data + P_G and 2 P_G.
    """


class WGAN(RawOutputObjective):
    """wgan: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN".

      D (the critic) minimises  E_f v - E_r v
      G minimises               -E_f v
    after_d_step clips every parameter of D to [-clip, clip] (default 0.01) so that
    the critic stays K-Lipschitz; E_r v - E_f v then estimates K·W1(P_data, P_G).
    Default optimizer: RMSprop, lr 5e-5 (Algorithm 1).
    On N(4, 1.25²) (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) the
    clipped critic and RMSprop 5e-5 are still on the way (N(3.7, 0.82²)): WGAN needs more steps.
    """


class WGANGP(Objective):
    """wgan-gp: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs".

      D minimises  E_f v - E_r v + lambda_gp · E (‖∇_x D(x̂)‖₂ - 1)²
      G minimises  -E_f v
    x̂ = ε x_r + (1 - ε) x_f with one ε ~ U[0, 1) per sample (x_r, x_f paired by row,
    so both batches must have the same shape). one_sided=1 penalises only
    max(0, ‖∇‖ - 1)² (Sec. 4 / Petzka et al. 2018). The penalty's gradient w.r.t. D's
    parameters is a double backward. Defaults lambda_gp=10, Adam lr 1e-4, betas (0.5, 0.9).
    On N(4, 1.25²) (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) WGAN-GP
    does not converge: with these settings the generator's mean swings around the data
    (N(6.6, 1.5²) at 2000 steps, N(23, 5.1²) at 3000); PyTorch with the same setup swings the
    same way (issue 13): it is the method (the critic's sign flips as G overtakes it), not a bug.
    R1 (r1=...), generator EMA, learning-rate decay or TTUR damp it (notebook 12).
    """


class DRAGAN(Objective):
    """dragan: Kodali et al. 2017, "On Convergence and Stability of GANs".

      D minimises  E_r softplus(-v) + E_f softplus(v) + lambda_gp · E (‖∇_x D(x̃)‖₂ - 1)²
      G minimises  E_f softplus(-v)                         (non-saturating)
    x̃ = x_r + α · perturb · std(x_r) · u, u ~ U[0, 1) per element (std over the whole
    batch), α ~ U[0, 1) per sample: the authors' code (DRAGAN.ipynb: X_p = X + 0.5 X.std()
    U, the penalty at X + α (X_p - X)). The penalty acts in a neighbourhood of the data,
    where sharp gradients of D cause mode collapse. Defaults lambda_gp=10, perturb=0.5,
    Adam lr 1e-4, betas (0.5, 0.9) (the authors' code).
    On N(4, 1.25²) (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) DRAGAN's
    defaults do not fit: G stays where it starts and ends in a collapsed well of D near 0.5
    (N(0.45, 0.01²); mean -0.57 / -0.64 / -0.21 / 0.30 / 0.45 at steps 500..2500). PyTorch with
    the same start (weights copied, its own random draws) follows the same path (-0.57 /
    -0.63 / -0.15 / 0.32 / 0.50), so the implementation is not the cause. The perturbation is not either (perturb = 0, 0.5, 2, 5,
    a Gaussian or a symmetric perturbation, with or without α: all end near 0.5); the
    learning rate is not (1e-4, 2e-4, 1e-3: 0.45-0.7). What traps G is the two-sided
    penalty in one dimension: D's initial slope at the data is negative (D decreases from
    -0.5 at x = 0 to -1.0 at x = 4), and in 1-D the penalty's minimum |D'| = 1 is two
    separate points, D' = -1 and D' = +1, with a barrier lambda_gp at D' = 0 between them.
    With lambda_gp = 10 the game's pull does not get D over it: D settles on D' = -1, scores
    the data lower than G's samples, and G climbs to D's maximum near 0. (In two or more
    dimensions the sphere ‖∇D‖ = 1 is connected and the gradient can turn round.) With D's
    last layer negated (D' > 0 at the data from the start) the same run reaches the data
    (N(4.0, 0.89²) at 1500 steps) and then swings past it (N(10.3, 2.3²) at 2500), as the
    game without the penalty does (lambda_gp = 0: N(5.5, 1.23²) at 2500). With
    lambda_gp = 2 or 5 D is trapped too; with lambda_gp = 1 D gets over, G reaches the data
    and swings past it as the unpenalised game does (N(5.9, 1.35²) at 2500 steps), so no
    setting of lambda_gp, perturb or lr fits this setup and the defaults stay the paper's.
    """


class Hinge(RawOutputObjective):
    """hinge: Lim & Ye 2017 ("Geometric GAN"); Miyato et al. 2018 (SN-GAN).

      D minimises  E_r relu(1 - v) + E_f relu(1 + v)
      G minimises  -E_f v
    Defaults: Adam lr 2e-4, betas (0, 0.9), d_steps 5 (Miyato et al.'s hinge-loss runs; their
    projection-discriminator code uses the same). On N(4, 1.25²)
    (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) they fit:
    N(4.08, 1.21²), and N(4.20, 1.18²), N(3.87, 1.42²) from two other starts. DCGAN's Adam
    (betas (0.5, 0.999), one critic step, the default before) lets the spread swing:
    std 1.25 at 2000 steps, 1.64 at 2500, 2.11 at 3000 (mean 4.1-4.3 throughout).
    """


class EBGAN(Objective):
    """ebgan: Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network".

    D is an autoencoder (output shape = input shape; d_out_features(dim) = dim) and the
    energy is its per-sample mean squared reconstruction error E(x) = ‖D(x) - x‖² / dim.
      D minimises  E_r E(x) + E_f relu(margin - E(x))
      G minimises  E_f E(x) + pt_weight · PT
    PT (pulling-away term, Sec. 2.4) = mean over i ≠ j of cos²(s_i, s_j) for the codes
    s = D.forward_until(x_f, code_layer) of the fake batch (D must be a Sequential/MLP
    when pt_weight > 0; code_layer defaults to len(D)//2). margin defaults to 1.0: the
    energy is a per-feature mean, so for standardised data (unit variance) a random
    reconstruction costs about 1-2 and margin 1 separates data from far-off fakes.
    On N(4, 1.25²) (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) the fit
    is too narrow (N(3.86, 0.84²)). The margin is not what stops it: no fake's energy ever
    reaches it (at 2500 steps the fakes' energies are 0.014 on average, 0.018 at most, the
    data's 0.017), so margin = 1, 2 and 4 give the same run. The autoencoder reconstructs the
    whole line around the data almost exactly (energy < 0.04 on [2, 8]), which leaves the
    energy nearly flat where G's samples lie and gives G little push to spread; from other
    starts the std ends at 1.26 or collapses to 0.07. Neither pt_weight = 0.1 nor Adam betas
    (0.5, 0.9) fits on all three starts.
    """


class LossSensitive(Objective):
    """loss-sensitive: Qi 2017, "Loss-Sensitive Generative Adversarial Networks on Lipschitz
    Densities".

    L(x) = v, D's raw output, is a loss that should be smaller on real data than on fakes by
    a margin Δ(x_r, x_f) = ‖x_r - x_f‖₁ (real and fake paired by row; equal batch sizes):
      D minimises  lambda_real · E_r L(x) + lambda_ls · E relu(Δ(x_r, x_f) + L(x_r) - L(x_f))
                   + lambda_gp · E max(0, ‖∇_x v(x̂)‖ - 1)²,  x̂ = εx_r + (1-ε)x_f
      G minimises  E_f L(x)
    Taken literally (L = v, lambda_real = 1, no penalty) the D loss is unbounded below:
    L - c lowers E_r L by c and leaves the hinge alone, so L runs off to -inf and G learns
    little (ring, 1000 steps: L(x_r) ~ -370, 3.7% of the samples near a mode). The defaults
    follow Qi's model: lambda_real = 0 (his code's default for the unconditional GAN; the
    loss is then shift-invariant and >= 0), L linear, and L Lipschitz through the lecture's
    one-sided gradient penalty on v (lambda_gp; 0 turns it off).

    Why L is linear: a squashed L saturates the generator. With L = softplus(v)
    (loss_output="softplus", the default before) G's gradient sigmoid(v_f) ∇v and the
    hinge's gradient in v_f both vanish once D scores the fakes v_f << 0, so neither network
    moves them: on N(4, 1.25²) the fit stalls near N(7, 2.5²) on 2 of 3 seeds. A linear L
    gives G the gradient ∇v everywhere. loss_output="relu" (Qi's code ends D with a ReLU)
    has no gradient at all where v < 0. With lambda_real > 0 use "softplus": L >= 0 is then
    what keeps D's loss bounded below.

    What the default is: with a 1-Lipschitz L and the L1 margin, Δ + L(x_r) - L(x_f) >= 0
    for every pair, so the hinge is always active and D maximises E_f v - E_r v, the
    critic of WGAN-GP (one-sided). The default loss-sensitive GAN behaves like WGAN-GP,
    including its oscillation on a 1-D Gaussian (tests/test_objective_defaults_1d.py); on
    the ring (1000 steps) it covers 8/8 modes but sharpens more slowly than the softplus
    form (10% against 49% high quality, tests/test_objectives.py).
    Defaults lambda_ls=10, lambda_gp=10, lambda_real=0, loss_output="linear".
    On N(4, 1.25²) (tests/test_objective_defaults_1d.py: 1-16-16-1 ReLU MLPs, batch 64, 2500 steps) the
    default ends at N(4.5, 0.89²), WGAN-GP-like.
    """


_CLASSES = {
    "minimax": Minimax, "non-saturating": NonSaturating, "lsgan": LSGAN, "wgan": WGAN,
    "wgan-gp": WGANGP, "dragan": DRAGAN, "hinge": Hinge, "ebgan": EBGAN,
    "loss-sensitive": LossSensitive,
}


def get(name, **options):
    """The objective `name` (see :func:`available`; aliases mmgan, nsgan) with its options.

    ValueError for an unknown name or option, or an option value out of range.
    """
    if not isinstance(name, str):
        raise TypeError(f"loss name must be a string, got {type(name).__name__}")
    core = _core.make(name, **options)
    if core.name.startswith("f-gan:"):
        obj = FGAN(core, options)
        div = core.name[len("f-gan:"):]
        f, conj, act = _DIVERGENCE_FORMULAS[div]
        obj.__doc__ = (FGAN.__doc__ + f"\n    Divergence {div}: f(u) = {f}; f*(t) = {conj}; "
                       f"g_f(v) = {act}.\n")
        return obj
    return _CLASSES[core.name](core, options)


class Regularized(Objective):
    """An objective written in Python with the options every objective takes (r1, r2,
    consistency, ct_margin): see :func:`regularize`."""

    def __init__(self, objective, core, options):
        super().__init__(core, options)
        self.objective = objective  # the Python objective inside

    def g_loss(self, D, fake):
        """What G minimises: the inner objective's own generator loss."""
        return self._core.g_loss(D, fake)

    def default_optimizer(self, discriminator=True):
        """The inner objective's (Adam 2e-4, betas (0.5, 0.999) when it defines none)."""
        return self._core.default_optimizer(discriminator)

    def __repr__(self):
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"cgan.losses.regularize(<{type(self.objective).__name__}>{opts})"


def regularize(objective, **options):
    """`objective` with the options every objective takes: ``r1``, ``r2``, ``consistency``,
    ``ct_margin`` (the module docstring gives their terms), added to its discriminator loss
    exactly as for a built-in objective (same C++ terms, double backward).

    For a built-in objective (from :func:`get`) this is ``get(name, **old, **options)``.
    For your own (a subclass of :class:`Objective`), the result's ``d_loss(D, real, fake,
    seed=0)`` and ``d_loss_terms`` evaluate your d_loss plus the terms (``seed`` drives the
    consistency term's dropout and your d_loss's ``rng``), and ``cgan.GAN(G, D,
    loss=regularize(mine, r1=10))`` trains like ``cgan.GAN(G, D, loss=mine, r1=10)``.
    ValueError for any other option (naming the closest of these four).
    """
    if isinstance(objective, Regularized):
        return regularize(objective.objective, **{**objective.options, **options})
    if isinstance(objective, Objective) and objective._core is not None:
        return get(objective.name, **{**objective.options, **options})
    if not (callable(getattr(objective, "d_loss", None)) and callable(getattr(objective, "g_loss", None))):
        raise TypeError(f"regularize needs an objective with d_loss and g_loss methods, got "
                        f"{type(objective).__name__}")
    return Regularized(objective, _core.regularize(objective, **options), options)


# ---- classification ---------------------------------------------------------------------

def _logits(logits):
    if not isinstance(logits, _Tensor):
        arr = _np.asarray(logits)
        if arr.dtype.kind != "f":
            raise TypeError(f"logits must be a float array or cgan.Tensor, got dtype {arr.dtype}")
        logits = _tensor(arr)
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 1:
        raise ValueError(f"logits must have shape (n, classes) with n, classes >= 1, got {tuple(logits.shape)}")
    values = logits.numpy()
    if not _np.all(_np.isfinite(values)):
        raise ValueError("logits contain NaN or Inf")
    return logits, values


def log_softmax(logits):
    """log softmax over the classes of (n, classes) logits, as a differentiable cgan.Tensor.

    Stable form: with m the row maximum, log p = (v - m) - log sum exp(v - m); exp never
    overflows and the largest term of the sum is 1. m enters as a constant: log softmax
    does not change when a row is shifted, so neither the value nor the gradient
    depends on it.
    """
    v, values = _logits(logits)
    m = values.max(axis=1, keepdims=True).astype(values.dtype)
    shifted = _ops.sub(v, m)
    return _ops.sub(shifted, _ops.log(_ops.sum(_ops.exp(shifted), 1, True)))


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of integer class labels (n,) under softmax(logits),
    logits (n, classes): -mean_i log softmax(v_i)[y_i]. A 0-d cgan.Tensor.

    TypeError for non-integer labels, ValueError for a wrong shape or a label outside
    [0, classes).
    """
    v, values = _logits(logits)
    y = _np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    n, k = values.shape
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the logits, got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must be in [0, {k}), got values in [{y.min()}, {y.max()}]")
    onehot = _np.zeros((n, k), dtype=values.dtype)
    onehot[_np.arange(n), y] = 1
    return _ops.neg(_ops.mean(_ops.sum(_ops.mul(log_softmax(v), onehot), 1)))
