"""Benchmarks and parity reports against checkov, cfn-lint and hadolint (never run by tests).

Run them from the repository root as modules: `make bench` (`python -m bench.corpus_bench`)
and `make parity` (`python -m bench.parity`). The third-party tools live in their own venv,
`bench/.venv-tools`, installed by `make bench-tools`.
"""
