"""Pipeguard: multi-tenant compliance checks for CI pipeline artifacts."""
