"""benchmarks/run.py's combination of several timing processes (--processes N)."""
import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "..", "benchmarks", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def child(cgan_ms, torch_ms, peak, gemm_only, diff):
    return {"threads": 2, "load_before": 1.0, "load_after": 2.0, "gemm": {"cgan": peak, "torch": peak - 10},
            "gemm_runs": [{"cgan": peak, "torch": peak - 10}],
            "workloads": {"2": {"equivalence": {"max_rel_diff": {"torch": diff}},
                                "timing": {"n": 10, "repeats": 7, "ms": {}, "gemm_only_ms": gemm_only,
                                           "median": {"cgan": cgan_ms, "torch": torch_ms},
                                           "best": {"cgan": cgan_ms - 1, "torch": torch_ms - 1}}}}}


def test_processes_are_combined_by_the_median_of_their_medians(run):
    runs = [child(150, 240, 160, 140, 1e-6), child(120, 250, 170, 150, 3e-6), child(160, 230, 150, 135, 2e-6)]
    r = run.merge_processes(runs)
    t = r["workloads"]["2"]["timing"]
    assert r["processes"] == 3
    assert t["median"] == {"cgan": 150, "torch": 240}
    assert t["process_medians"] == {"cgan": [150, 120, 160], "torch": [240, 250, 230]}
    assert t["best"] == {"cgan": 119, "torch": 229}
    assert t["gemm_only_ms"] == 135
    assert r["gemm"] == {"cgan": 170, "torch": 160}
    assert r["workloads"]["2"]["equivalence"]["max_rel_diff"] == {"torch": 3e-6}
    assert (r["load_before"], r["load_after"]) == (1.0, 2.0)
    assert run.merge_processes(runs[:1]) is runs[0]


def test_the_table_lists_each_process_ratio(run, monkeypatch):
    monkeypatch.setattr(run, "versions", lambda libs: {})
    runs = [child(150, 300, 160, 140, 1e-6), child(120, 200, 170, 150, 3e-6)]
    text = run.render([run.merge_processes(runs)], {}, ["cgan", "torch"], [2], [], quick=False)
    assert "2 processes, medians of their medians" in text
    assert "workload 2: torch 0.50, 0.60; cgan ms 150.0, 120.0" in text
    assert "| 2 wgan-gp | 135.00 | 250.00 |" in text


def test_the_bf16_peers_are_set_side_by_side(run, monkeypatch):
    monkeypatch.setattr(run, "versions", lambda libs: {})
    r = child(150, 300, 160, 140, 1e-6)
    r["workloads"]["2"]["timing"]["median"].update({"cgan-bf16": 90.0, "torch-bf16": 180.0})
    text = run.render([r], {}, ["cgan", "torch", "torch-bf16", "cgan-bf16"], [2], [], quick=False)
    assert "cgan-bf16 / torch-bf16 (below 1: cgan faster): workload 2 90.00 / 180.00 ms = 0.50" in text
    assert "set_matmul_precision(\"bf16\")" in text


def test_the_cgan_bf16_runner_trains_in_bf16_and_leaves_float32(run):
    import numpy as np

    import cgan
    from cgan import _core
    wl = dict(run.WORKLOADS[1], g=[2, 32, 32, 2], d=[2, 32, 32, 1], batch=32)  # 32x32: the kernel's shapes
    data = cgan.datasets.ring(256, seed=0).astype(np.float32)
    _core._set_bf16_kernel("portable")  # "bf16" on any CPU (slow, and these shapes are small)
    try:
        bf16 = run.CganBf16Runner(wl, data, 1).run(3)
        assert cgan.get_matmul_precision() == "float32"
        with cgan.matmul_precision("bf16-emulated"):
            emulated = run.CganRunner(wl, data, 1).run(3)
        f32 = run.CganRunner(wl, data, 1).run(3)
    finally:
        _core._set_bf16_kernel("avx512_bf16")
    np.testing.assert_allclose(bf16, emulated, rtol=1e-4)
    assert bf16 != f32
