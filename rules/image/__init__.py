"""Container image rules (ids `IMG-<AREA>-NNN`): each public module registers its own."""

from rules._discover import import_pack

__all__ = import_pack(__name__, __path__)
