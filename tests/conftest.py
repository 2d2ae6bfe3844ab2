"""Fixtures shared by the test modules."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """torch on one thread for the test: the machine is shared, and one thread keeps float
    sums in a fixed order, so results are reproducible bit for bit."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
