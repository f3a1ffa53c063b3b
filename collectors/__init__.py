"""The CI collector: submit a pipeline's artifacts to Pipeguard, or scan them offline."""
