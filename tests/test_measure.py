import os
import platform
import subprocess
import sys
import time

import pytest
import torch

from tlcourse.tools import measure


def test_size_on_disk_scales_with_parameters():
    small, large = torch.nn.Linear(10, 10), torch.nn.Linear(1000, 1000)
    assert measure.size_on_disk_mb(large) > 3.8 > measure.size_on_disk_mb(small)


def test_median_seconds_warms_up_then_takes_the_median():
    sleeps = iter([1.0, 0.05, 0.6, 0.0])  # the warm-up's 1 s is not counted; median 0.05 (the mean would be 0.22)
    median = measure.median_seconds(lambda: time.sleep(next(sleeps)), repeats=3, warmup=1)
    assert 0.04 < median < 0.15
    assert next(sleeps, None) is None  # 1 + 3 calls


AVX2_ONLY = """
import torch
from tlcourse.tools import measure
print(torch.backends.cpu.get_cpu_capability(), measure.autocast_speedup(torch.bfloat16, repeats=3))
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="AVX2 limits are x86 settings")
def test_autocast_speedup_finds_emulated_bf16_on_an_avx2_cpu():
    # the variables limit PyTorch and oneDNN to AVX2, which has no bf16 arithmetic: bf16 is emulated, slower
    environment = os.environ | {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    done = subprocess.run(
        [sys.executable, "-c", AVX2_ONLY], capture_output=True, text=True, check=True, env=environment
    )
    capability, speedup = done.stdout.split()
    assert capability == "AVX2" and float(speedup) < 0.5
