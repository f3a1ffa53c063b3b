"""The CI collector: submit a pipeline's artifacts to Pipeguard, or scan them offline."""

__version__ = "0.1.0"
