"""Slow, obvious twins of the numba kernels, for parity tests."""
