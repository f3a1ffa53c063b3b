"""Rules about SARIF logs themselves (ids `SA-<AREA>-NNN`): whether the scanner's run can be
trusted. The findings a log reports are imported as the scanner's own rules
(`chalicelib.engine.imported`), not checked here."""

from rules._discover import import_pack

__all__ = import_pack(__name__, __path__)
