"""Rule registry and evaluation of one artifact against the rules."""
