"""EKS cluster rules: API endpoint exposure, secrets encryption and control plane logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Template
from rules.cloudformation._helpers import MISSING, as_list, is_world, truthy

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_CLUSTER = "AWS::EKS::Cluster"


def _strings(tpl: Template, value: Any) -> list[Any]:
    """Every value a list (or one item) may hold, items resolved one by one; a list-typed
    parameter contributes its items."""
    values: list[Any] = []
    for item in as_list(value):
        for v in tpl.possible_values(item):
            values.extend(v if isinstance(v, list) else [v])
    return values


@rule(
    id="CF-EKS-001",
    controls=("fsbp EKS.1", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="EKS API endpoint open to the internet",
    severity="medium",
    resource_types=("AWS::EKS::Cluster",),
    description=(
        "By default the Kubernetes API endpoint of an EKS cluster is public and accepts "
        "connections from any address. A leaked kubeconfig or token, or a flaw in the API "
        "server, can then be used from anywhere; restricting the source ranges (or using the "
        "private endpoint only) removes that exposure."
    ),
    remediation=(
        "```yaml\nResourcesVpcConfig:\n  SubnetIds: [!Ref PrivateSubnetA, !Ref PrivateSubnetB]\n"
        "  EndpointPrivateAccess: true\n  EndpointPublicAccess: false\n"
        "  # or keep it public for known ranges only:\n"
        "  # PublicAccessCidrs: [203.0.113.0/24]\n```"
    ),
    references=(
        f"{_HUB}/eks-controls.html#eks-1",
        "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
    ),
)
def public_endpoint(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CLUSTER):
        config = ("ResourcesVpcConfig",)
        public = res.prop(*config, "EndpointPublicAccess", default=MISSING)
        if public is not MISSING and public is not None:
            values = tpl.possible_values(public)
            if all(v is not NO_VALUE and truthy(v) is False for v in values):
                continue  # private endpoint only
        cidrs = res.prop(*config, "PublicAccessCidrs", default=MISSING)
        if cidrs is MISSING or cidrs is None:
            yield Hit(
                "the public endpoint is on and PublicAccessCidrs is not set (0.0.0.0/0)",
                line=res.prop_line(*config, "EndpointPublicAccess")
                if public is not MISSING
                else res.prop_line(*config),
                resource=res.logical_id,
            )
            continue
        values = _strings(tpl, cidrs)
        line = res.prop_line(*config, "PublicAccessCidrs")
        if any(v is NO_VALUE or (isinstance(v, str) and is_world(v)) for v in values):
            yield Hit(
                "PublicAccessCidrs allows the whole internet", line=line, resource=res.logical_id
            )
        elif not values or any(not isinstance(v, str) for v in values):
            yield Hit(
                "PublicAccessCidrs cannot be resolved from the template: make sure it does not "
                "include 0.0.0.0/0",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-EKS-002",
    controls=("fsbp EKS.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="EKS secrets not encrypted with a KMS key",
    severity="low",
    resource_types=("AWS::EKS::Cluster",),
    description=(
        "Without an EncryptionConfig for secrets, Kubernetes Secrets in etcd are protected "
        "only by AWS-owned keys (on recent versions) or by disk encryption alone: you cannot "
        "restrict or audit who may decrypt them, nor revoke access by disabling the key."
    ),
    remediation=(
        "```yaml\nEncryptionConfig:\n  - Provider:\n      KeyArn: !GetAtt ClusterSecretsKey.Arn\n"
        "    Resources: [secrets]\n```"
    ),
    references=(
        f"{_HUB}/eks-controls.html#eks-3",
        "https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html",
    ),
)
def secrets_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CLUSTER):
        config = res.prop("EncryptionConfig", default=MISSING)
        if config is MISSING or config is None:
            yield Hit(
                "no EncryptionConfig is set", line=res.properties_line, resource=res.logical_id
            )
            continue
        covered = False
        for item in as_list(config):
            if not isinstance(item, dict):
                continue
            provider = item.get("Provider")
            key = provider.get("KeyArn") if isinstance(provider, dict) else None
            resources = _strings(tpl, item.get("Resources"))
            keys = tpl.possible_values(key) if key not in (None, "") else [NO_VALUE]
            if "secrets" in resources and all(k is not NO_VALUE and k != "" for k in keys):
                covered = True
        if not covered:
            yield Hit(
                "EncryptionConfig does not encrypt secrets with a KMS key",
                line=res.prop_line("EncryptionConfig"),
                resource=res.logical_id,
            )


@rule(
    id="CF-EKS-003",
    controls=("fsbp EKS.8", "nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="EKS control plane audit logging disabled",
    severity="medium",
    resource_types=("AWS::EKS::Cluster",),
    description=(
        "Control plane logs are off by default. Without the audit log there is no record of "
        "who read secrets, changed RBAC or exec'd into pods, which is the first thing an "
        "incident response on a cluster needs; the authenticator log shows which IAM "
        "identities signed in."
    ),
    remediation=(
        "```yaml\nLogging:\n  ClusterLogging:\n    EnabledTypes:\n      - Type: api\n"
        "      - Type: audit\n      - Type: authenticator\n```"
    ),
    references=(
        f"{_HUB}/eks-controls.html#eks-8",
        "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
    ),
)
def audit_logging_disabled(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CLUSTER):
        path = ("Logging", "ClusterLogging", "EnabledTypes")
        enabled = res.prop(*path, default=MISSING)
        if enabled is MISSING or enabled is None:
            yield Hit(
                "no control plane log types are enabled",
                line=res.prop_line(*path),
                resource=res.logical_id,
            )
            continue
        types = {
            v.strip().lower()
            for item in as_list(enabled)
            if isinstance(item, dict)
            for v in tpl.possible_values(item.get("Type"))
            if isinstance(v, str)
        }
        unresolved = any(
            not isinstance(item, dict) or not isinstance(item.get("Type"), str)
            for item in as_list(enabled)
        )
        if "audit" not in types:
            yield Hit(
                "the audit log type is not enabled"
                + (" (some types cannot be resolved from the template)" if unresolved else ""),
                line=res.prop_line(*path),
                resource=res.logical_id,
            )


@rule(
    id="CF-EKS-004",
    controls=("nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="EKS node group SSH open to the internet",
    severity="high",
    resource_types=("AWS::EKS::Nodegroup",),
    description=(
        "A managed node group with RemoteAccess.Ec2SshKey but no SourceSecurityGroups gets "
        "a security group rule opening port 22 on every node to 0.0.0.0/0: each node's SSH "
        "daemon is then brute-forced and scanned from the whole internet whenever the nodes "
        "have public addresses, and from the whole VPC otherwise."
    ),
    remediation=(
        "Drop RemoteAccess and use SSM Session Manager, or name who may connect:\n```yaml\n"
        "RemoteAccess:\n  Ec2SshKey: ops-key\n  SourceSecurityGroups: [!Ref BastionSecurityGroup]\n"
        "```"
    ),
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-eks-nodegroup-remoteaccess.html",
    ),
)
def node_group_ssh_open(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EKS::Nodegroup"):
        key = res.prop("RemoteAccess", "Ec2SshKey")
        if key is None or all(v in (NO_VALUE, "") for v in tpl.possible_values(key)):
            continue
        sources = _strings(tpl, res.prop("RemoteAccess", "SourceSecurityGroups"))
        if not [s for s in sources if s not in (NO_VALUE, "", None)]:
            yield Hit(
                "RemoteAccess has an SSH key but no SourceSecurityGroups, so port 22 is open "
                "to 0.0.0.0/0",
                res.prop_line("RemoteAccess"),
                res.logical_id,
            )
