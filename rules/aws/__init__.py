"""Account-level rules for AWS inventories (ids `AWS-<AREA>-NNN`): what no template shows
(the root user, credentials, region-wide settings, detective services). Each public module
registers its own. The inventory's resources are also judged by the CloudFormation rules."""

from rules._discover import import_pack

__all__ = import_pack(__name__, __path__)
