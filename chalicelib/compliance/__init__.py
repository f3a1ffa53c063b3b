"""Compliance frameworks: the catalog of automatable controls and the per-tenant report."""
