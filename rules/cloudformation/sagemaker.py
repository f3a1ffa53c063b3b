"""SageMaker rules: notebook instances (keys, network placement, root) and endpoint keys."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import each, one_of, present

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/sagemaker-controls.html"
_DOCS = "https://docs.aws.amazon.com/sagemaker/latest/dg"
_NOTEBOOK = "AWS::SageMaker::NotebookInstance"


@rule(
    id="CF-SGM-001",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="SageMaker notebook storage without a KMS key",
    severity="medium",
    resource_types=("AWS::SageMaker::NotebookInstance",),
    description=(
        "Without KmsKeyId, a notebook instance's ML storage volume (training data, notebooks, "
        "credentials cached by the SDKs) is encrypted with a key SageMaker manages: access to "
        "the data cannot be limited through key permissions, nor revoked by disabling the key."
    ),
    remediation=(
        "```yaml\nResearchNotebook:\n  Type: AWS::SageMaker::NotebookInstance\n  Properties:\n"
        "    KmsKeyId: !Ref NotebookKey\n```"
    ),
    references=(
        f"{_DOCS}/encryption-at-rest-nbi.html",
        f"{_DOCS}/security-data-protection.html",
    ),
)
def notebook_without_key(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _NOTEBOOK, present, "KmsKeyId", what="no customer managed key is used")


@rule(
    id="CF-SGM-002",
    controls=("fsbp SageMaker.1", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="SageMaker notebook with direct internet access",
    severity="medium",
    resource_types=("AWS::SageMaker::NotebookInstance",),
    description=(
        "DirectInternetAccess is Enabled by default: the notebook gets a network interface "
        "with internet access outside your VPC, so code in it can send data anywhere, "
        "bypassing VPC endpoints, proxies and egress controls. Relates to AWS FSBP "
        "SageMaker.1."
    ),
    remediation=(
        "```yaml\nResearchNotebook:\n  Type: AWS::SageMaker::NotebookInstance\n  Properties:\n"
        "    DirectInternetAccess: Disabled\n    SubnetId: !Ref PrivateSubnet\n"
        "    SecurityGroupIds: [!Ref NotebookSecurityGroup]\n```"
    ),
    references=(
        f"{_HUB}#sagemaker-1",
        f"{_DOCS}/appendix-notebook-and-internet-access.html",
    ),
)
def notebook_internet_access(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        _NOTEBOOK,
        one_of,
        "DirectInternetAccess",
        good=("Disabled",),
        what="the notebook reaches the internet directly",
    )


@rule(
    id="CF-SGM-003",
    controls=("fsbp SageMaker.2", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="SageMaker notebook not placed in a VPC",
    severity="medium",
    resource_types=("AWS::SageMaker::NotebookInstance",),
    description=(
        "Without SubnetId, a notebook instance runs in a network SageMaker manages: your "
        "security groups, flow logs, VPC endpoints and network ACLs do not apply to it, and "
        "its direct internet access cannot be turned off. Relates to AWS FSBP SageMaker.2."
    ),
    remediation=(
        "```yaml\nResearchNotebook:\n  Type: AWS::SageMaker::NotebookInstance\n  Properties:\n"
        "    SubnetId: !Ref PrivateSubnet\n    SecurityGroupIds: [!Ref NotebookSecurityGroup]\n```"
    ),
    references=(
        f"{_HUB}#sagemaker-2",
        f"{_DOCS}/notebook-interface-endpoint.html",
    ),
)
def notebook_outside_vpc(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _NOTEBOOK, present, "SubnetId", what="it is not in your VPC")


@rule(
    id="CF-SGM-004",
    controls=("fsbp SageMaker.3", "nist-800-53-r5 AC-6"),
    artifact_type="cloudformation",
    title="SageMaker notebook users have root access",
    severity="medium",
    resource_types=("AWS::SageMaker::NotebookInstance",),
    description=(
        "RootAccess is Enabled by default: every user of the notebook can become root on the "
        "instance, install anything, change its network configuration and read the "
        "credentials of its execution role from any process. Relates to AWS FSBP "
        "SageMaker.3."
    ),
    remediation=(
        "```yaml\nResearchNotebook:\n  Type: AWS::SageMaker::NotebookInstance\n  Properties:\n"
        "    RootAccess: Disabled\n```\nInstall packages through a lifecycle configuration."
    ),
    references=(
        f"{_HUB}#sagemaker-3",
        f"{_DOCS}/nbi-root-access.html",
    ),
)
def notebook_root_access(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl, _NOTEBOOK, one_of, "RootAccess", good=("Disabled",), what="users can become root"
    )


@rule(
    id="CF-SGM-005",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="SageMaker endpoint storage without a KMS key",
    severity="medium",
    resource_types=("AWS::SageMaker::EndpointConfig",),
    description=(
        "An endpoint configuration without KmsKeyId leaves the ML storage volumes attached "
        "to the hosting instances (model artifacts, captured requests when data capture is "
        "on) encrypted with a key SageMaker manages, outside your key policies. Instance "
        "types with NVMe instance storage are encrypted by the hardware and take no key."
    ),
    remediation=(
        "```yaml\nModelEndpointConfig:\n  Type: AWS::SageMaker::EndpointConfig\n"
        "  Properties:\n    KmsKeyId: !Ref ModelKey\n    ProductionVariants: [...]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html",
        f"{_DOCS}/encryption-at-rest.html",
    ),
)
def endpoint_without_key(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::SageMaker::EndpointConfig",
        present,
        "KmsKeyId",
        what="no customer managed key is used",
    )
