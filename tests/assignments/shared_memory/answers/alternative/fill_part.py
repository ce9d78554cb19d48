"""A worker that fills part of a NumPy array living in a shared-memory block."""

from multiprocessing import shared_memory

import numpy as np


def fill_part(name, size, start, stop):
    """Write i * i at indices start..stop-1 of the shared int64 array in block `name`."""
    block = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray((size,), dtype=np.int64, buffer=block.buf)
        for i in range(start, stop):
            view[i] = i * i
        del view
    finally:
        block.close()
