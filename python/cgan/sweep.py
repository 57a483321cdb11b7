"""cgan.sweep: studies of many GAN runs (objectives x hyperparameters x seeds) on Dask.

    df = cgan.sweep({"loss": ["wgan-gp", "hinge"], "lr": cgan.sweep.loguniform(1e-4, 1e-2)},
                    data="ring", trials=8, seeds=[0, 1], steps=1000, out="runs/study")
    cgan.sweep.report(df)

Lists in `space` are grid axes (every combination runs); distributions (``uniform``,
``loguniform``, ``choice``) are drawn `trials` times for every grid point (draw t uses the
same values at every grid point); anything else is a fixed value. Every trial runs with
each of `seeds`. Trials run on Dask's distributed scheduler: a LocalCluster with one
single-threaded worker process per core by default, or the cluster at `address`.

``cgan.sweep`` is this module's function ``sweep``; the module's other public names hang
on it as attributes (``cgan.sweep.report``, ``cgan.sweep.uniform``, ...).
"""
import difflib
import hashlib
import json
import math
import numbers
import os
import re
import time

import numpy as np

from . import _sweep_trial as trial_lib
from . import get_matmul_precision, losses, set_matmul_precision
from ._sweep_trial import run_trial

__all__ = ["sweep", "uniform", "loguniform", "choice", "run_trial", "report", "boxplot",
           "best_of_budget", "load", "cli_main"]

_RESULTS = "results.jsonl"
_STUDY = "study.json"
_CHECKPOINTS = "checkpoints"
_CONNECT_TIMEOUT = 5  # seconds to reach an existing scheduler before giving up
_LIST_SETTINGS = ("hidden", "g_hidden", "d_hidden", "betas")


# ---- distributions ---------------------------------------------------------------------

class Distribution:
    """A distribution of one setting for random search; draw(rng) gives one value."""

    def to_json(self):
        raise NotImplementedError


def _real(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    return float(value)


class uniform(Distribution):
    """Uniform on [low, high]."""

    def __init__(self, low, high):
        self.low, self.high = _real(low, "uniform: low"), _real(high, "uniform: high")
        if self.low > self.high:
            raise ValueError(f"uniform: low ({low}) must not exceed high ({high})")

    def draw(self, rng):
        return float(rng.uniform(self.low, self.high))

    def to_json(self):
        return {"uniform": [self.low, self.high]}

    def __repr__(self):
        return f"uniform({self.low!r}, {self.high!r})"


class loguniform(Distribution):
    """log-uniform on [low, high], 0 < low <= high (learning rates, penalty weights)."""

    def __init__(self, low, high):
        self.low, self.high = _real(low, "loguniform: low"), _real(high, "loguniform: high")
        if self.low <= 0:
            raise ValueError(f"loguniform: low must be > 0, got {low!r}")
        if self.low > self.high:
            raise ValueError(f"loguniform: low ({low}) must not exceed high ({high})")

    def draw(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def to_json(self):
        return {"loguniform": [self.low, self.high]}

    def __repr__(self):
        return f"loguniform({self.low!r}, {self.high!r})"


class choice(Distribution):
    """One of `values`, each equally likely (use it for settings a random search draws
    from a list, e.g. ``d_steps=choice([1, 5])``; a plain list is a grid axis)."""

    def __init__(self, values):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise ValueError(f"choice: values must be a list, got {values!r}")
        if len(values) == 0:
            raise ValueError("choice: values must not be empty")
        self.values = [_plain(v) for v in values]

    def draw(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def to_json(self):
        return {"choice": self.values}

    def __repr__(self):
        return f"choice({self.values!r})"


_DISTRIBUTIONS = {"uniform": uniform, "loguniform": loguniform, "choice": choice}


def _plain(v):
    """A value as plain JSON-able Python: tuples -> lists, NumPy scalars -> Python."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


# ---- the space -------------------------------------------------------------------------

_ACCEPTED = {}


def _accepted_options(loss):
    """The option names objective `loss` takes. cgan.losses lists them only in the message
    of the ValueError for an unknown option ("...; accepted: lambda_gp (number) ..."), so
    they are read from there (tests/test_sweep.py checks this against known options)."""
    if loss not in _ACCEPTED:
        try:
            losses.get(loss, __cgan_sweep_probe__=0)
            accepted = set()
        except ValueError as e:
            tail = str(e).partition("accepted:")[2]
            accepted = set(re.findall(r"([A-Za-z_]\w*) \(", tail))
        _ACCEPTED[loss] = frozenset(accepted)
    return _ACCEPTED[loss]


def _known_names():
    """Every setting name: the trial's own and every option of every objective."""
    names = set(trial_lib.DEFAULTS)
    for loss in losses.available():
        names |= _accepted_options(loss)
    return names


def _closest(name, candidates):
    near = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.5)
    return f"; did you mean {near[0]!r}?" if near else ""


def _check_space(space):
    """Raise for an empty space, an unknown name, an empty list or a misused list setting."""
    if not isinstance(space, dict):
        raise TypeError(f"space must be a dict of setting name -> list, distribution or "
                        f"value, got {type(space).__name__}")
    if not space:
        raise ValueError("space is empty: give at least one setting, e.g. "
                         "{'loss': ['wgan-gp', 'hinge']}")
    known = _known_names()
    for name, value in space.items():
        if name == "seed":
            raise ValueError("space: seeds are not a setting; pass seeds=[...] to cgan.sweep")
        if name not in known:
            raise ValueError(f"space: unknown setting {name!r}{_closest(str(name), known)} "
                             f"(settings: {', '.join(sorted(trial_lib.DEFAULTS))}, or an "
                             f"objective option)")
        if isinstance(value, list) and not value:
            raise ValueError(f"space: {name} is an empty list; give at least one value")
        if name in _LIST_SETTINGS:
            _check_list_setting(name, value)
    for loss in _values_of(space.get("loss", trial_lib.DEFAULTS["loss"])):
        try:
            losses.get(loss)
        except (ValueError, TypeError) as e:
            raise ValueError(f"space: loss: {e}") from None


def _check_list_setting(name, value):
    hint = (f"space: {name} takes a list of numbers, so a grid over it is a list of lists, "
            f"e.g. {name}=[[64, 64], [128]] (a single value: [[64, 64]])")
    if isinstance(value, list) and value and not isinstance(value[0], (list, tuple)):
        raise ValueError(hint)
    if isinstance(value, choice) and not all(isinstance(v, list) for v in value.values):
        raise ValueError(hint.replace("a grid over it", "a choice of it"))


def _values_of(value):
    if isinstance(value, list):
        return value
    if isinstance(value, choice):
        return value.values
    return [value]


def _is_distribution(v):
    return isinstance(v, Distribution)


def _plan(space, trials, seeds, search_seed):
    """Every trial as (settings, seed, draw): grid points x draws x seeds, deduplicated."""
    grid_names = sorted(k for k, v in space.items() if isinstance(v, list))
    dist_names = sorted(k for k, v in space.items() if _is_distribution(v))
    fixed = {k: _plain(v) for k, v in space.items()
             if not isinstance(v, list) and not _is_distribution(v)}
    if dist_names and trials is None:
        raise ValueError(f"trials is required with distributions in the space "
                         f"({', '.join(dist_names)}): the number of random draws")
    if not dist_names and trials is not None:
        raise ValueError("trials counts random draws, but the space has no distribution "
                         "(uniform, loguniform, choice); leave trials out for a grid")
    draws = [{k: space[k].draw(_draw_rng(search_seed, t, k)) for k in dist_names}
             for t in range(trials or 1)]
    points = [{}]
    for k in grid_names:
        points = [{**p, k: _plain(v)} for p in points for v in space[k]]
    plan, seen = [], set()
    for point in points:
        for t, draw in enumerate(draws):
            settings = _applicable({**fixed, **point, **draw})
            for seed in seeds:
                ident = json.dumps([settings, seed], sort_keys=True)
                if ident not in seen:
                    seen.add(ident)
                    plan.append((settings, seed, t if dist_names else None))
    return plan


def _draw_rng(search_seed, t, name):
    """The generator of draw t of one setting: it depends on (search_seed, t, name) only, so
    adding a setting to the space leaves the other settings' draws as they were. The three
    are hashed into one seed: NumPy's SeedSequence fed [seed, t, large int] directly gives
    nearly equal first draws for t = 0 and 1 (measured), which would halve a search."""
    digest = hashlib.sha256(f"{search_seed}/{t}/{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _applicable(settings):
    """Drop objective options that this trial's objective does not take (a grid over
    lambda_gp means nothing to hinge), so such trials are not run twice."""
    loss = losses.get(settings.get("loss", trial_lib.DEFAULTS["loss"])).name
    accepted = _accepted_options(loss)
    return {k: v for k, v in settings.items() if k in trial_lib.DEFAULTS or k in accepted}


def _check_precision(value):
    """A matmul_precision this machine runs, or set_matmul_precision's error, before any run."""
    previous = get_matmul_precision()
    try:
        set_matmul_precision(value)
    except (ValueError, TypeError, RuntimeError) as e:
        raise ValueError(f"space: matmul_precision: {e}") from None
    finally:
        set_matmul_precision(previous)


def _check_trial_settings(plan):
    """Build every distinct objective once: a bad option value fails here, before any run."""
    seen = set()
    precisions = []
    for settings, _, _ in plan:
        p = trial_lib.resolve(settings)[0]["matmul_precision"]
        if p not in precisions:
            _check_precision(p)
            precisions.append(p)
    for settings, _, _ in plan:
        s, options = trial_lib.resolve(settings)
        ident = json.dumps([s["loss"], options], sort_keys=True)
        if ident in seen:
            continue
        seen.add(ident)
        try:
            losses.get(s["loss"], **options)
        except (ValueError, TypeError) as e:
            raise ValueError(f"space: {e}") from None
        for k in ("lr", "g_lr", "d_lr"):
            if s[k] is not None and not (isinstance(s[k], numbers.Real) and s[k] > 0):
                raise ValueError(f"space: {k} must be a number > 0, got {s[k]!r}")
        for k in ("z_dim", "d_steps", "g_steps", "batch_size"):
            if isinstance(s[k], bool) or not isinstance(s[k], numbers.Integral) or s[k] < 1:
                raise ValueError(f"space: {k} must be a positive integer, got {s[k]!r}")


# ---- arguments -------------------------------------------------------------------------

def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _check_seeds(seeds):
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = [seeds]
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or not 0 <= s < 2**63:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    return [int(s) for s in seeds]


def _check_data(data):
    if isinstance(data, str):
        if data not in trial_lib.DATASETS:
            raise ValueError(f"data: unknown data set {data!r}"
                             f"{_closest(data, trial_lib.DATASETS)} (data sets: "
                             f"{', '.join(trial_lib.DATASETS)}, or an (n, d) array)")
        return data
    arr = np.asarray(data)
    if arr.ndim != 2 or len(arr) < 2 or arr.dtype.kind not in "iuf" or \
            not np.all(np.isfinite(arr)):
        raise ValueError(f"data must be a data set name or a finite (n, d) array of at "
                         f"least 2 rows, got {type(data).__name__} of shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _check_metrics(metrics, data):
    available = trial_lib.metric_names(data)
    if metrics is None:
        return tuple(available)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("metrics must not be empty")
    for m in metrics:
        if m not in available:
            raise ValueError(f"metrics: {m!r} is not measured on this data set"
                             f"{_closest(str(m), available)} (available: {', '.join(available)})")
    return tuple(dict.fromkeys(metrics))


def _check_halving(sh, steps, metrics):
    """The rungs' step counts [steps / eta^(rungs-1), ..., steps] and the ranking rule."""
    if sh is None:
        return None
    if not isinstance(sh, dict):
        raise TypeError(f"successive_halving must be a dict(rungs=..., eta=..., metric=..., "
                        f"mode=...), got {type(sh).__name__}")
    allowed = {"rungs", "eta", "metric", "mode"}
    for k in sh:
        if k not in allowed:
            raise ValueError(f"successive_halving: unknown key {k!r}{_closest(str(k), allowed)}")
    rungs = _positive_int("successive_halving: rungs", sh.get("rungs", 3))
    eta = _positive_int("successive_halving: eta", sh.get("eta", 3))
    if rungs < 2 or eta < 2:
        raise ValueError(f"successive_halving needs rungs >= 2 and eta >= 2, got rungs={rungs}, "
                         f"eta={eta}")
    metric = sh.get("metric", "w1" if "w1" in metrics else metrics[0])
    if metric not in metrics:
        raise ValueError(f"successive_halving: metric {metric!r} is not among the study's "
                         f"metrics {list(metrics)}{_closest(str(metric), metrics)}")
    mode = sh.get("mode", trial_lib.METRICS[metric])
    if mode not in ("min", "max"):
        raise ValueError(f"successive_halving: mode must be 'min' or 'max', got {mode!r}")
    budgets = [max(1, round(steps / eta ** (rungs - 1 - r))) for r in range(rungs)]
    if any(a >= b for a, b in zip(budgets, budgets[1:])):
        raise ValueError(f"successive_halving: steps={steps} is too few for {rungs} rungs "
                         f"with eta={eta} (rung budgets {budgets} must increase)")
    return {"rungs": rungs, "eta": eta, "metric": metric, "mode": mode, "budgets": budgets}


# ---- the cluster -------------------------------------------------------------------------

def _connect(address, n_workers):
    """(client, what to close afterwards: the client and cluster started here, or
    nothing for a Client passed in). Raises before any trial when the scheduler at
    `address` does not answer within a few seconds or its workers cannot import cgan."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as e:
        raise ImportError('cgan.sweep runs on Dask: pip install "cgan[sweep]" '
                          '(dask[distributed] and pandas)') from e
    started = []
    if isinstance(address, Client):
        client = address
    elif address is not None:
        try:
            client = Client(address, timeout=_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise ConnectionError(f"address: no Dask scheduler answered at {address!r} within "
                                  f"{_CONNECT_TIMEOUT} s ({type(e).__name__}: {e})") from None
        started = [client]
    else:
        import logging
        cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
        started = [cluster]
        try:
            client = Client(cluster)
        except BaseException:
            cluster.close()
            raise
        started.insert(0, client)
    try:
        client.run(trial_lib.warm_up)  # imports once per worker, outside the trials' seconds
    except Exception as e:  # noqa: BLE001 -- any failure here means the workers are unusable
        for thing in started:
            thing.close()
        raise RuntimeError(f"the Dask workers cannot run cgan trials ({type(e).__name__}: {e}); "
                           f"install cgan where the workers run") from e
    return client, started


# ---- results on disk ---------------------------------------------------------------------

def _read_rows(path):
    """(rows of a results file, whether the file is intact). A last line cut off by a
    crash is dropped, and the caller rewrites the file; damage elsewhere is an error."""
    if not os.path.exists(path):
        return [], True
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i != len(lines) - 1:
                raise ValueError(f"{path}: line {i + 1} is not JSON; the results file is "
                                 f"damaged") from None
    return rows, text == "" or text.endswith("\n")


class _Store:
    """The study directory: study.json (what was asked), results.jsonl (a row per finished
    trial and rung, appended and fsynced as each finishes), checkpoints/ (halving)."""

    def __init__(self, out, study, resume):
        self.out = out
        self.rows = []
        if out is None:
            return
        os.makedirs(os.path.join(out, _CHECKPOINTS), exist_ok=True)
        study_path = os.path.join(out, _STUDY)
        results = os.path.join(out, _RESULTS)
        if resume and os.path.exists(study_path):
            with open(study_path) as f:
                old = json.load(f)
            if old != study:
                raise ValueError(f"out: {out} holds a different study (its {_STUDY} differs); "
                                 f"use another out, or resume=False to start it over")
            self.rows, clean = _read_rows(results)
            if not clean:
                self._rewrite(results)
        else:
            self._rewrite(results)
            for f in os.listdir(os.path.join(out, _CHECKPOINTS)):
                os.unlink(os.path.join(out, _CHECKPOINTS, f))
        with open(study_path + ".tmp", "w") as f:
            json.dump(study, f, indent=1, sort_keys=True)
        os.replace(study_path + ".tmp", study_path)

    def _rewrite(self, results):
        with open(results + ".tmp", "w") as f:
            for row in self.rows:
                f.write(json.dumps(row) + "\n")
        os.replace(results + ".tmp", results)

    def done(self):
        return {(r["key"], r["steps"]): r for r in self.rows}

    def append(self, row):
        self.rows.append(row)
        if self.out is None:
            return
        with open(os.path.join(self.out, _RESULTS), "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def checkpoint_path(self, key, steps):
        return None if self.out is None else \
            os.path.join(self.out, _CHECKPOINTS, f"{key}-{steps}.npz")

    def save_checkpoint(self, key, steps, blob):
        path = self.checkpoint_path(key, steps)
        if path is not None:
            with open(path + ".tmp", "wb") as f:
                f.write(blob)
            os.replace(path + ".tmp", path)

    def load_checkpoint(self, key, steps):
        path = self.checkpoint_path(key, steps)
        if path is None or not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return f.read()


# ---- running -----------------------------------------------------------------------------

class _Progress:
    """tqdm bar of trials done / total with the best value of one metric so far."""

    def __init__(self, total, done, metric, mode, enabled):
        self.metric, self.mode, self.best = metric, mode, None
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=done, unit="trial", desc="sweep")

    def update(self, row):
        v = row.get(self.metric)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            if self.best is None or (v < self.best if self.mode == "min" else v > self.best):
                self.best = v
        if self.bar is not None:
            self.bar.update(1)
            if self.best is not None:
                self.bar.set_postfix({f"best {self.metric}": f"{self.best:.4g}"}, refresh=False)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _run_tasks(client, tasks, study, store, progress, callback):
    """Submit tasks (trial, steps, checkpoint) and write each row as it finishes.
    Returns {key: checkpoint bytes} for tasks that asked for one."""
    from dask.distributed import as_completed
    from distributed import KilledWorker

    token = os.urandom(4).hex()
    futures = {}
    for t, steps, ckpt, want_ckpt in tasks:
        f = client.submit(run_trial, t["settings"], t["seed"], study["data_obj"], steps,
                          study["metrics"], ckpt, want_ckpt, 1, study["eval_samples"],
                          key=f"cgan-trial-{t['key']}-{steps}-{token}", retries=0)
        futures[f] = (t, steps)
    blobs = {}
    try:
        for f in as_completed(list(futures)):
            t, steps = futures.pop(f)
            try:
                result = f.result()
            except KilledWorker as e:  # the trial took down its worker every time it ran
                result = {m: float("nan") for m in study["metrics"]}
                result.update(steps=steps, seconds=float("nan"), cgan_version=None,
                              digest=None, error=f"KilledWorker: {e}")
            blob = result.pop("checkpoint", None)
            if blob is not None:
                blobs[t["key"]] = blob
                store.save_checkpoint(t["key"], steps, blob)
            row = _row(t, result, study)
            store.append(row)
            progress.update(row)
            if callback is not None:
                callback(row)
    finally:
        if futures:  # interrupted: nothing further runs on the cluster's behalf
            client.cancel(list(futures))
    return blobs


def _row(t, result, study):
    row = {"trial": t["index"], "key": t["key"], "data": study["data"], "seed": t["seed"]}
    if t["draw"] is not None:
        row["draw"] = t["draw"]
    for name in study["setting_names"]:
        row[name] = t["settings"].get(name)
    row.update(result)
    return row


def _rank(rows, metric, mode):
    """Rows best first; failed trials and NaN last, ties by trial index."""
    def key(r):
        v = r.get(metric)
        bad = r.get("error") is not None or v is None or math.isnan(v)
        return (bad, 0.0 if bad else (v if mode == "min" else -v), r["trial"])
    return sorted(rows, key=key)


def _execute(client, trials, study, store, sh, progress, callback):
    if sh is None:
        done = store.done()
        todo = [(t, study["steps"], None, False) for t in trials
                if (t["key"], study["steps"]) not in done]
        _run_tasks(client, todo, study, store, progress, callback)
        return
    alive, previous, blobs = trials, 0, {}
    for r, budget in enumerate(sh["budgets"]):
        done = store.done()
        last = r == len(sh["budgets"]) - 1
        todo = []
        for t in alive:
            if (t["key"], budget) in done:
                continue
            ckpt = blobs.get(t["key"]) or (store.load_checkpoint(t["key"], previous)
                                           if previous else None)
            todo.append((t, budget, ckpt, not last))
        blobs = _run_tasks(client, todo, study, store, progress, callback)
        done = store.done()
        rows = [done[t["key"], budget] for t in alive]
        keep = max(1, len(alive) // sh["eta"])
        best = {r_["key"] for r_ in _rank(rows, sh["metric"], sh["mode"])[:keep]}
        alive = [t for t in alive if t["key"] in best]
        previous = budget


def _rung_sizes(n, sh):
    sizes = [n]
    for _ in sh["budgets"][1:]:
        sizes.append(max(1, sizes[-1] // sh["eta"]))
    return sizes


def _trial_key(settings, seed, study):
    ident = json.dumps({"settings": settings, "seed": seed, "data": study["data"],
                        "steps": study["steps"], "metrics": study["metrics"],
                        "eval_samples": study["eval_samples"]}, sort_keys=True)
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def sweep(space, data="ring", trials=None, seeds=(0,), steps=1000, metrics=None, address=None,
          n_workers=None, out=None, resume=True, successive_halving=None, search_seed=0,
          eval_samples=2000, progress=True, callback=None):
    """Run a study: every trial of `space` (x `seeds`) trained for `steps` generator steps
    on `data` and measured, on Dask's distributed scheduler. Returns a pandas DataFrame,
    one row per trial: trial, key, data, seed (draw for random search), each setting, the
    metrics, steps, seconds, cgan_version, error (None, or "Type: message" for a trial
    that failed, e.g. "FloatingPointError: ..."), digest (hash of the trained weights).

    space: setting -> list (grid axis), distribution (``uniform``, ``loguniform``,
        ``choice``; drawn `trials` times, seeded by `search_seed`) or a fixed value.
        Settings: loss, z_dim, prior, d_steps, g_steps, hidden (G and D; or g_hidden,
        d_hidden), activation, spectral_norm, optimizer ("adam", "rmsprop", "sgd"), lr
        (or g_lr, d_lr), betas, batch_size, matmul_precision ("float32", or
        "bf16-emulated" to train and sample with bfloat16 products: see
        cgan.set_matmul_precision), and any objective option (lambda_gp, clip, ...;
        dropped for trials whose objective does not take it). Left out: cgan's defaults
        and the objective's paper optimizer.
    data: "ring", "grid" (metrics modes, hq, w1), "swiss-roll", "two-moons" (w1),
        "gaussian-1d", "mixture-1d" (w1, js), or an (n, d) array (w1; js for d = 1).
    address: None (a LocalCluster of `n_workers` single-threaded worker processes,
        default one per core), "tcp://host:8786", or a dask.distributed Client.
    out: a directory; study.json and results.jsonl (a row appended as each trial
        finishes) go there. With resume=True a study already in `out` continues: finished
        trials are skipped. resume=False starts it over (the old results are deleted).
    successive_halving: dict(rungs=3, eta=3, metric="w1", mode="min"): train every
        trial for steps / eta^(rungs-1) steps, keep the best 1/eta, continue those from
        their checkpoints (the same run as straight through), and so on up to `steps`.
        The DataFrame then has each trial's last row; every rung's rows are in `out`
        (``load``); df.attrs["successive_halving"] says how many steps it saved.
    eval_samples: generated samples each trial is measured on (the 2-D Wasserstein
        distance takes at most 500 of them, against as many held-out data points).
    callback(row): called in this process for every finished row (an exception from it,
        KeyboardInterrupt included, stops the study; finished rows stay in `out`).
    """
    _check_space(space)
    seeds = _check_seeds(seeds)
    steps = _positive_int("steps", steps)
    if trials is not None:
        trials = _positive_int("trials", trials)
    eval_samples = _positive_int("eval_samples", eval_samples)
    data_obj = _check_data(data)
    metrics = _check_metrics(metrics, data_obj)
    sh = _check_halving(successive_halving, steps, metrics)
    if n_workers is not None:
        n_workers = _positive_int("n_workers", n_workers)
        if address is not None:
            raise ValueError("n_workers is for the LocalCluster cgan.sweep starts; with an "
                             "address the cluster decides")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a directory path, got {type(out).__name__}")
    plan = _plan(space, trials, seeds, search_seed)
    _check_trial_settings(plan)

    data_id = data_obj if isinstance(data_obj, str) else "array:" + hashlib.sha256(
        data_obj.tobytes() + str(data_obj.shape).encode()).hexdigest()[:16]
    study = {"data": data_id, "steps": steps, "metrics": list(metrics), "seeds": seeds,
             "eval_samples": eval_samples,
             "trials": trials, "search_seed": search_seed,
             "space": {k: v.to_json() if _is_distribution(v) else _plain(v)
                       for k, v in sorted(space.items())},
             "successive_halving": None if sh is None else
             {k: sh[k] for k in ("rungs", "eta", "metric", "mode")}}
    store = _Store(None if out is None else os.fspath(out), study, resume)
    runs = [{"index": i, "settings": s, "seed": seed, "draw": draw,
             "key": _trial_key(s, seed, study)}
            for i, (s, seed, draw) in enumerate(plan)]
    run_info = dict(study, data_obj=data_obj, setting_names=sorted(space))
    metric, mode = (sh["metric"], sh["mode"]) if sh else \
        ("w1" if "w1" in metrics else metrics[0], trial_lib.METRICS.get(metrics[0], "min"))
    total = len(runs) if sh is None else sum(_rung_sizes(len(runs), sh))

    client, started = _connect(address, n_workers)
    keys = {t["key"] for t in runs}
    bar = _Progress(total, sum(r["key"] in keys for r in store.rows), metric, mode, progress)
    t0 = time.perf_counter()
    try:
        _execute(client, runs, run_info, store, sh, bar, callback)
    finally:
        bar.close()
        for thing in started:
            thing.close()
    return _frame(store.rows, runs, sh, time.perf_counter() - t0)


def _frame(rows, runs, sh, seconds):
    """The DataFrame of a study: each trial's last row (most steps), in trial order."""
    import pandas as pd

    keys = {t["key"]: t["index"] for t in runs}
    last = {}
    for r in rows:
        if r["key"] in keys and (r["key"] not in last or r["steps"] > last[r["key"]]["steps"]):
            last[r["key"]] = r
    df = pd.DataFrame(sorted(last.values(), key=lambda r: r["trial"]))
    df.attrs["seconds"] = seconds
    if sh is not None:
        full = len(runs) * sh["budgets"][-1]
        trained = 0
        sizes = _rung_sizes(len(runs), sh)
        for r, budget in enumerate(sh["budgets"]):
            trained += sizes[r] * (budget - (sh["budgets"][r - 1] if r else 0))
        df.attrs["successive_halving"] = {
            "budgets": sh["budgets"], "trials_per_rung": sizes, "steps_trained": trained,
            "steps_without_halving": full, "saved": 1 - trained / full}
    return df


# ---- reading and reporting ---------------------------------------------------------------

def load(out, all_rungs=False):
    """The results of the study in directory `out` as a DataFrame: each trial's last row
    (most steps), or every row with all_rungs=True (successive halving's rungs)."""
    import pandas as pd

    path = os.path.join(os.fspath(out), _RESULTS)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no study results at {path}")
    rows, _ = _read_rows(path)
    if not all_rungs:
        last = {}
        for r in rows:
            if r["key"] not in last or r["steps"] > last[r["key"]]["steps"]:
                last[r["key"]] = r
        rows = sorted(last.values(), key=lambda r: r["trial"])
    return pd.DataFrame(rows)


def _results(df):
    if isinstance(df, (str, os.PathLike)):
        return load(df)
    return df


def _metric_columns(df, metrics):
    if metrics is not None:
        return [metrics] if isinstance(metrics, str) else list(metrics)
    return [m for m in trial_lib.METRICS if m in df.columns]


def _group_column(df, by):
    if by in df.columns:
        return df[by].fillna("(default)").astype(str)
    return df["data"].map(lambda _: str(trial_lib.DEFAULTS.get(by, "(all)")))


def report(df, by="loss", metrics=None):
    """A table per objective (or any setting `by`) and data set: trials, failed trials,
    and for each metric the median over its trials (seeds and hyperparameters) and the
    best (max for modes and hq, min for w1 and js), as in Lucic et al. 2017.
    `df`: a study's DataFrame or its out directory."""
    import pandas as pd

    df = _results(df)
    names = _metric_columns(df, metrics)
    failed = df["error"].notna()
    groups = pd.DataFrame({"data": df["data"], by: _group_column(df, by)})
    table = {}
    for (data, group), idx in groups.groupby(["data", by]).groups.items():
        part = df.loc[idx]
        ok = part[~failed.loc[idx]]
        entry = {"trials": len(part), "failed": int(failed.loc[idx].sum())}
        for m in names:
            values = ok[m].astype(float)
            best = values.max() if trial_lib.METRICS.get(m, "min") == "max" else values.min()
            entry[f"{m} median"] = values.median()
            entry[f"{m} best"] = best
        table[data, group] = entry
    out = pd.DataFrame.from_dict(table, orient="index")
    out.index.names = ["data", by]
    return out


def boxplot(df, metric, by="loss", ax=None):
    """Box plots of `metric` per objective (or per setting `by`) over a study's trials
    (failed trials left out); draws on `ax` (a new figure without) and returns it."""
    import matplotlib.pyplot as plt

    df = _results(df)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.45 * df[by].nunique() + 2), 4))
    ok = df[df["error"].isna()]
    groups = _group_column(ok, by)
    labels = sorted(groups.unique())
    ax.boxplot([ok.loc[groups == g, metric].astype(float).values for g in labels])
    ax.set_xticks(range(1, len(labels) + 1))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(metric)
    return ax


def best_of_budget(df, metric, budgets, by="loss", mode=None, samples=2000, seed=0):
    """The distribution of the best `metric` among `k` trials drawn at random (without
    replacement) from each objective's trials, for each budget k: the key plot of Lucic
    et al. 2017 (how good a result k runs of random search buy). A failed trial counts as
    the worst value. Returns a DataFrame: data, by, budget, mean, q05, q50, q95."""
    import pandas as pd

    df = _results(df)
    mode = mode or trial_lib.METRICS.get(metric, "min")
    worst = np.inf if mode == "min" else -np.inf
    rng = np.random.default_rng(seed)
    rows = []
    groups = pd.DataFrame({"data": df["data"], by: _group_column(df, by)})
    for (data, group), idx in groups.groupby(["data", by]).groups.items():
        v = df.loc[idx, metric].astype(float).values.copy()
        v[np.isnan(v) | df.loc[idx, "error"].notna().values] = worst
        for k in budgets:
            if k > len(v):
                continue
            picks = np.argsort(rng.random((samples, len(v))), axis=1)[:, :k]
            best = v[picks].min(1) if mode == "min" else v[picks].max(1)
            best = best[np.isfinite(best)]
            q = np.quantile(best, [0.05, 0.5, 0.95]) if best.size else [np.nan] * 3
            rows.append({"data": data, by: group, "budget": k,
                         "mean": best.mean() if best.size else np.nan,
                         "q05": q[0], "q50": q[1], "q95": q[2]})
    return pd.DataFrame(rows)


# ---- the command line ----------------------------------------------------------------------

def _read_study_file(path):
    """A study file: TOML (.toml) or JSON. Distributions are written as one-key tables,
    e.g. lr = {loguniform = [1e-4, 1e-2]}; lists are grid axes."""
    with open(path, "rb") as f:
        raw = f.read()
    if os.fspath(path).endswith(".toml"):
        try:
            import tomllib
        except ImportError:  # Python < 3.11
            try:
                import tomli as tomllib
            except ImportError:
                raise ImportError("reading a .toml study needs Python >= 3.11 or tomli "
                                  "(pip install tomli); or write the study as JSON") from None
        study = tomllib.loads(raw.decode())
    else:
        study = json.loads(raw)
    if not isinstance(study, dict) or "space" not in study:
        raise ValueError(f"{path}: a study file needs a [space] table")
    space = {}
    for name, value in study["space"].items():
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in _DISTRIBUTIONS:
                raise ValueError(f"{path}: space.{name}: a distribution is one of "
                                 f"{{uniform = [low, high]}}, {{loguniform = [low, high]}}, "
                                 f"{{choice = [...]}}; got {value!r}")
            kind, args = next(iter(value.items()))
            space[name] = choice(args) if kind == "choice" else _DISTRIBUTIONS[kind](*args)
        else:
            space[name] = value
    allowed = {"space", "data", "trials", "seeds", "steps", "metrics", "successive_halving",
               "search_seed", "eval_samples"}
    for k in study:
        if k not in allowed:
            raise ValueError(f"{path}: unknown key {k!r}{_closest(k, allowed)}")
    kwargs = {k: v for k, v in study.items() if k != "space"}
    return space, kwargs


def _format_table(table):
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 40,
                           "display.float_format", "{:.4g}".format):
        return table.to_string()


def cli_main(argv=None):
    """`cgan sweep STUDY --out DIR [--address A] [--workers N] [--restart]` runs a study
    file; `cgan sweep --report DIR` prints the table of a study's results."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="cgan sweep", description="Run a study of many GAN runs on Dask (a study file in "
        "TOML or JSON: data, steps, seeds, trials, [space], [successive_halving]), or report "
        "the results of one.")
    ap.add_argument("study", nargs="?", help="the study file (.toml or .json)")
    ap.add_argument("--out", help="directory for study.json, results.jsonl, checkpoints/")
    ap.add_argument("--address", help="a running Dask scheduler, e.g. tcp://host:8786 "
                    "(default: a LocalCluster on this machine)")
    ap.add_argument("--workers", type=int, help="worker processes of the LocalCluster "
                    "(default: one per core)")
    ap.add_argument("--restart", action="store_true",
                    help="start the study over instead of resuming it")
    ap.add_argument("--report", metavar="DIR", help="print the table of a study in DIR")
    ap.add_argument("--by", default="loss", help="group the table by this setting (default loss)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if args.report:
        if args.study:
            ap.error("give a study file or --report DIR, not both")
        print(_format_table(report(args.report, by=args.by)))
        return 0
    if not args.study or not args.out:
        ap.error("a study file and --out DIR are required (or --report DIR)")
    try:
        space, kwargs = _read_study_file(args.study)
    except (OSError, ValueError, TypeError) as e:
        ap.error(str(e))
    try:
        df = sweep(space, out=args.out, address=args.address, n_workers=args.workers,
                   resume=not args.restart, progress=not args.no_progress, **kwargs)
    except (ValueError, TypeError, ConnectionError) as e:  # bad study: a usage error
        ap.error(str(e))
    print(f"{len(df)} trials ({int(df['error'].notna().sum())} failed) in "
          f"{df.attrs['seconds']:.1f} s -> {os.path.join(args.out, _RESULTS)}")
    if "successive_halving" in df.attrs:
        saved = df.attrs["successive_halving"]["saved"]
        print(f"successive halving trained {100 * (1 - saved):.0f}% of the steps of the full study")
    print(_format_table(report(df, by=args.by)))
    return 0


# `cgan.sweep` is the function; the rest of the module hangs on it.
for _name in __all__:
    if _name != "sweep":
        setattr(sweep, _name, globals()[_name])
del _name
