"""File system, backup vault, WorkSpaces and Transfer Family rules: encryption at rest and in
transit."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import MISSING, as_list, customer_key, each, enabled

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_EFS = "AWS::EFS::FileSystem"


@rule(
    id="CF-EFS-001",
    controls=("cis-aws-3.0 2.4.1", "fsbp EFS.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="EFS file system not encrypted at rest",
    severity="medium",
    resource_types=("AWS::EFS::FileSystem",),
    description=(
        "An EFS file system is encrypted at rest only when it is created with Encrypted: true; "
        "CloudFormation's default is false, and encryption cannot be switched on later without "
        "copying the data to a new file system. Every instance, container and Lambda function "
        "mounting it shares data that then sits in clear on the service's storage. "
        "Relates to AWS FSBP EFS.1."
    ),
    remediation=(
        "```yaml\nSharedFiles:\n  Type: AWS::EFS::FileSystem\n  Properties:\n"
        "    Encrypted: true\n    KmsKeyId: !Ref FilesKey   # optional: a customer managed key\n```"
    ),
    references=(
        f"{_HUB}/efs-controls.html#efs-1",
        "https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html",
    ),
)
def efs_not_encrypted(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _EFS, enabled, "Encrypted", what="encryption at rest")


@rule(
    id="CF-EFS-002",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="EFS file system not encrypted with a customer managed key",
    severity="low",
    resource_types=("AWS::EFS::FileSystem",),
    description=(
        "An encrypted file system without KmsKeyId uses the AWS managed key "
        "aws/elasticfilesystem: its key policy cannot be changed, so access to the data cannot "
        "be limited or audited through the key, and the key cannot be disabled to cut access "
        "in an incident. Only file systems with Encrypted: true are checked here (CF-EFS-001 "
        "reports the others)."
    ),
    remediation=(
        "```yaml\nSharedFiles:\n  Type: AWS::EFS::FileSystem\n  Properties:\n"
        "    Encrypted: true\n    KmsKeyId: !GetAtt FilesKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html",
        "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-cmk",
    ),
)
def efs_without_cmk(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_EFS):
        if enabled(tpl, res, "Encrypted", what="encryption") is None:
            hit = customer_key(
                tpl, res, "KmsKeyId", what="the AWS managed key aws/elasticfilesystem is used"
            )
            if hit:
                yield hit


@rule(
    id="CF-BACKUP-001",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="Backup vault not encrypted with a customer managed key",
    severity="low",
    resource_types=("AWS::Backup::BackupVault",),
    description=(
        "A backup vault without EncryptionKeyArn encrypts its recovery points with the AWS "
        "managed key aws/backup. The backups are the last line of defence after a ransomware "
        "or account compromise: a customer managed key lets you restrict who may decrypt "
        "(and so restore or copy) them, and audit every use of the key."
    ),
    remediation=(
        "```yaml\nBackupVault:\n  Type: AWS::Backup::BackupVault\n  Properties:\n"
        "    BackupVaultName: production\n    EncryptionKeyArn: !GetAtt BackupKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-backup-backupvault.html",
    ),
)
def backup_vault_without_cmk(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::Backup::BackupVault",
        customer_key,
        "EncryptionKeyArn",
        what="recovery points are encrypted with the AWS managed key aws/backup",
    )


@rule(
    id="CF-WS-001",
    controls=(
        "fsbp WorkSpaces.1",
        "fsbp WorkSpaces.2",
        "nist-800-53-r5 SC-28",
        "pci-dss-4.0 3.5.1",
    ),
    artifact_type="cloudformation",
    title="WorkSpaces volumes not encrypted",
    severity="medium",
    resource_types=("AWS::WorkSpaces::Workspace",),
    description=(
        "A WorkSpace keeps the user's desktop, downloads and cached credentials on its root "
        "(C: or /) and user (D: or /home) volumes; both are unencrypted unless "
        "RootVolumeEncryptionEnabled and UserVolumeEncryptionEnabled are true. Encryption can "
        "only be chosen when the WorkSpace is created. Each volume is reported on its own."
    ),
    remediation=(
        "```yaml\nAnalystDesktop:\n  Type: AWS::WorkSpaces::Workspace\n  Properties:\n"
        "    BundleId: !Ref BundleId\n    DirectoryId: !Ref DirectoryId\n    UserName: analyst\n"
        "    RootVolumeEncryptionEnabled: true\n    UserVolumeEncryptionEnabled: true\n"
        "    VolumeEncryptionKey: !GetAtt WorkSpacesKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/workspaces/latest/adminguide/encrypt-workspaces.html",
        f"{_HUB}/workspaces-controls.html",
    ),
)
def workspace_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::WorkSpaces::Workspace"):
        for prop, volume in (
            ("RootVolumeEncryptionEnabled", "root volume"),
            ("UserVolumeEncryptionEnabled", "user volume"),
        ):
            hit = enabled(tpl, res, prop, what=f"encryption of the {volume}")
            if hit:
                yield hit


@rule(
    id="CF-TRANSFER-001",
    controls=("fsbp Transfer.2", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="Transfer Family server accepts plain FTP",
    severity="medium",
    resource_types=("AWS::Transfer::Server",),
    description=(
        "A Transfer Family server whose Protocols include FTP lets partners and systems log "
        "in and upload or download files without encryption: user names, passwords and file "
        "contents cross the network in clear. SFTP and FTPS protect both. Relates to AWS "
        "FSBP Transfer.2."
    ),
    remediation=(
        "```yaml\nPartnerServer:\n  Type: AWS::Transfer::Server\n  Properties:\n"
        "    Protocols: [SFTP]\n    SecurityPolicyName: TransferSecurityPolicy-2024-01\n```"
    ),
    references=(
        f"{_HUB}/transfer-controls.html#transfer-2",
        "https://docs.aws.amazon.com/transfer/latest/userguide/create-server-ftp.html",
    ),
)
def transfer_server_ftp(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Transfer::Server"):
        value = res.prop("Protocols", default=MISSING)
        if value is MISSING:
            continue  # SFTP only
        protocols = [v for item in as_list(value) for v in tpl.possible_values(item)]
        if any(isinstance(v, str) and v.strip().upper() == "FTP" for v in protocols):
            yield Hit(
                "Protocols include FTP, so logins and files travel in clear",
                res.prop_line("Protocols"),
                res.logical_id,
            )
