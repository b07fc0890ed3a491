import subprocess
import sys

import torch

from tlcourse import measure

FRESH_PROCESS = """
import time, torch
from tlcourse import measure
with measure.peak_memory() as memory:
    block = torch.ones(64 * 2 ** 20 // 4)  # 64 MiB
    block += 1
    time.sleep(0.1)
print(memory["peak_mb"])
"""


def test_peak_memory_sees_a_large_allocation():
    # a fresh interpreter: in a long-lived one, memory freed earlier is reused without growing the resident set
    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=True)
    assert 50 < float(done.stdout.split()[-1]) < 200


def test_size_on_disk_scales_with_parameters():
    small, large = torch.nn.Linear(10, 10), torch.nn.Linear(1000, 1000)
    assert measure.size_on_disk_mb(large) > 3.8 > measure.size_on_disk_mb(small)
