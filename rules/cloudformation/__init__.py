"""CloudFormation rules (ids `CF-<SERVICE>-NNN`); each module registers its rules on import."""

from rules.cloudformation import ec2, iam, kms, lambda_, logging, rds, s3  # noqa: F401

__all__ = ["ec2", "iam", "kms", "lambda_", "logging", "rds", "s3"]
