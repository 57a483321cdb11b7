"""cgan.set_matmul_precision / get_matmul_precision and the CPU feature detection."""
import pytest

import cgan


def cpuinfo_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_default_is_float32():
    assert cgan.get_matmul_precision() == "float32"


def test_cpu_features_agree_with_the_kernel_flags():
    f = cgan.cpu_features()
    assert set(f) == {"avx2_fma", "avx512f", "avx512_bf16", "amx_bf16"}
    flags = cpuinfo_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo")
    # Linux lists a feature only when the OS supports it too, as cpu_features() requires.
    assert f["avx2_fma"] == ({"avx2", "fma"} <= flags)
    assert f["avx512f"] == ("avx512f" in flags)
    assert f["avx512_bf16"] == ("avx512_bf16" in flags)
    assert f["amx_bf16"] == ({"amx_bf16", "amx_tile"} <= flags)


def test_bf16_error_names_the_missing_feature_and_keeps_float32():
    f = cgan.cpu_features()
    with pytest.raises(RuntimeError) as e:  # no bf16 kernels in this build, on any CPU
        cgan.set_matmul_precision("bf16")
    msg = str(e.value)
    if not (f["avx512_bf16"] or f["amx_bf16"]):
        assert "AVX512_BF16" in msg and "AMX-BF16" in msg and "neither" in msg
    else:
        assert "no bfloat16 kernels" in msg
    assert cgan.get_matmul_precision() == "float32"


def test_float32_can_be_set_and_bad_values_are_refused():
    cgan.set_matmul_precision("float32")
    assert cgan.get_matmul_precision() == "float32"
    with pytest.raises(ValueError, match='"float32" or "bf16".*did you mean "bf16"'):
        cgan.set_matmul_precision("bfloat16")
    with pytest.raises(ValueError, match="fp16"):
        cgan.set_matmul_precision("fp16")
    with pytest.raises(TypeError, match="precision must be a string"):
        cgan.set_matmul_precision(16)
    assert cgan.get_matmul_precision() == "float32"
