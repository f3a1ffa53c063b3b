"""ECR repository and ECS task definition rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, LineDict, Resource, Template
from rules._secrets import is_literal_secret_value, is_secret_name
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    describe,
    disabled,
    each,
    item_line,
    none_of,
    one_of,
    present,
    truthy,
)
from rules.cloudformation.messaging import public_message, public_statement

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_TASK = "AWS::ECS::TaskDefinition"
_ROOT_USERS = frozenset({"root", "0"})


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


# -- ECR --------------------------------------------------------------------------------


def _registry_scans_everything(tpl: Template) -> bool:
    """A registry scanning configuration that scans every repository on push or continuously."""
    for res in tpl.of_type("AWS::ECR::RegistryScanningConfiguration"):
        for item in as_list(res.prop("Rules")):
            if not isinstance(item, dict):
                continue
            frequency = _text(item.get("ScanFrequency"))
            filters = [
                f.get("Filter")
                for f in as_list(item.get("RepositoryFilters"))
                if isinstance(f, dict)
            ]
            if frequency in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN") and "*" in filters:
                return True
    return False


@rule(
    id="CF-ECR-001",
    controls=("fsbp ECR.1", "nist-800-53-r5 RA-5", "pci-dss-4.0 11.3.1"),
    artifact_type="cloudformation",
    title="ECR repository does not scan images on push",
    severity="medium",
    resource_types=("AWS::ECR::RegistryScanningConfiguration", "AWS::ECR::Repository"),
    description=(
        "Without scan on push (or a registry-wide scanning rule), images with known "
        "vulnerable packages are stored and deployed without anyone being told; the first "
        "sign of the vulnerability may be its exploitation."
    ),
    remediation=(
        "```yaml\nAppRepository:\n  Type: AWS::ECR::Repository\n  Properties:\n"
        "    ImageScanningConfiguration:\n      ScanOnPush: true\n```\n"
        "or declare an `AWS::ECR::RegistryScanningConfiguration` (enhanced scanning) whose "
        "rules cover every repository."
    ),
    references=(
        f"{_HUB}/ecr-controls.html#ecr-1",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",
    ),
)
def repository_without_scan_on_push(tpl: Template) -> Iterator[Hit]:
    repositories = list(tpl.of_type("AWS::ECR::Repository"))
    if not repositories or _registry_scans_everything(tpl):
        return
    for res in repositories:
        value = res.prop("ImageScanningConfiguration", "ScanOnPush", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "ImageScanningConfiguration.ScanOnPush is not set, so images are not scanned",
                line=res.properties_line,
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        line = res.prop_line("ImageScanningConfiguration", "ScanOnPush")
        if any(v is NO_VALUE or truthy(v) is False for v in values):
            yield Hit(
                "ScanOnPush can be false, so images may not be scanned",
                line=line,
                resource=res.logical_id,
            )
        elif any(truthy(v) is None for v in values):
            yield Hit(
                f"ScanOnPush comes from {describe(value)}, which cannot be resolved from the "
                "template: make sure images are scanned",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECR-002",
    controls=("fsbp ECR.2",),
    artifact_type="cloudformation",
    title="ECR repository image tags are mutable",
    severity="low",
    resource_types=("AWS::ECR::Repository",),
    description=(
        "With mutable tags, pushing an image under an existing tag silently replaces what "
        "`app:1.4.2` or `app:prod` refers to. A compromised pipeline or credential can swap a "
        "trusted image without any deployment change, and rollbacks may not restore the "
        "image that was tested."
    ),
    remediation=(
        "```yaml\nAppRepository:\n  Type: AWS::ECR::Repository\n  Properties:\n"
        "    ImageTagMutability: IMMUTABLE\n```\n"
        "and deploy by digest or by unique tags (e.g. the commit SHA)."
    ),
    references=(
        f"{_HUB}/ecr-controls.html#ecr-2",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
    ),
)
def repository_tags_mutable(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::ECR::Repository"):
        value = res.prop("ImageTagMutability", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "ImageTagMutability is not set, so tags are MUTABLE",
                line=res.properties_line,
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        line = res.prop_line("ImageTagMutability")
        mutable = [
            v
            for v in values
            if v is NO_VALUE
            or (isinstance(v, str) and not v.strip().upper().startswith("IMMUTABLE"))
        ]
        if mutable:
            shown = "removed (MUTABLE)" if mutable[0] is NO_VALUE else mutable[0]
            yield Hit(f"ImageTagMutability can be {shown}", line=line, resource=res.logical_id)
        elif any(not isinstance(v, str) for v in values):
            yield Hit(
                f"ImageTagMutability comes from {describe(value)}, which cannot be resolved "
                "from the template: make sure tags are IMMUTABLE",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECR-003",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="ECR repository policy allows anyone",
    severity="high",
    resource_types=("AWS::ECR::Repository",),
    description=(
        'A repository policy statement allowing Principal "*" without a Condition lets any '
        "AWS account pull the images (and the code, configuration and secrets baked into "
        "them) or, with push actions, replace them."
    ),
    remediation=(
        "Name the accounts or roles that need access:\n"
        "```yaml\nRepositoryPolicyText:\n  Statement:\n    - Effect: Allow\n"
        "      Principal:\n        AWS: !Sub arn:aws:iam::${DeployAccountId}:root\n"
        "      Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_resource-based-policy-examples.html",
    ),
)
def repository_policy_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::ECR::Repository"):
        found = public_statement(tpl, res, "RepositoryPolicyText")
        if found:
            yield Hit(public_message(found[0]), line=found[1], resource=res.logical_id)


# -- ECS --------------------------------------------------------------------------------


def _containers(tpl: Template, res: Resource) -> Iterator[tuple[dict, tuple[Any, ...], str]]:
    """Each container definition (both branches of a conditional one), with its path."""
    for index, item in enumerate(as_list(res.prop("ContainerDefinitions"))):
        for variant in tpl.possible_values(item):
            if isinstance(variant, dict):
                name = variant.get("Name")
                label = name if isinstance(name, str) else f"#{index + 1}"
                yield variant, ("ContainerDefinitions", index), label


def _line(res: Resource, item: Any, path: tuple[Any, ...], key: str) -> int | None:
    if isinstance(item, LineDict) and key in item.lines:
        return item.lines[key]
    return res.prop_line(*path, key)


def _windows(tpl: Template, res: Resource) -> bool:
    family = res.prop("RuntimePlatform", "OperatingSystemFamily")
    values = tpl.possible_values(family)
    return all(isinstance(v, str) and v.upper().startswith("WINDOWS") for v in values)


@rule(
    id="CF-ECS-001",
    controls=("fsbp ECS.4", "nist-800-53-r5 AC-6"),
    artifact_type="cloudformation",
    title="ECS container runs privileged",
    severity="high",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "A privileged container gets every Linux capability and access to the host's "
        "devices: a compromise of the application becomes root on the container instance, "
        "and from there access to every other task on it and to the instance role."
    ),
    remediation=(
        "Remove Privileged (or set it to false) and grant only the capabilities needed:\n"
        "```yaml\nContainerDefinitions:\n  - Name: app\n    Privileged: false\n"
        "    LinuxParameters:\n      Capabilities:\n        Drop: [ALL]\n"
        "        Add: [NET_BIND_SERVICE]\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-4",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_security",
    ),
)
def privileged_container(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_TASK):
        names: list[str] = []
        unknown: list[str] = []
        first_line = None
        for item, path, name in _containers(tpl, res):
            if "Privileged" not in item:
                continue
            values = tpl.possible_values(item["Privileged"])
            if any(truthy(v) is True for v in values):
                names.append(name)
            elif any(v is not NO_VALUE and truthy(v) is None for v in values):
                unknown.append(name)
            else:
                continue
            first_line = first_line or _line(res, item, path, "Privileged")
        if names:
            yield Hit(
                f"container(s) {', '.join(names)} can run privileged",
                line=first_line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"Privileged of container(s) {', '.join(unknown)} cannot be resolved from the "
                "template: make sure it is false",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECS-002",
    controls=("fsbp ECS.5",),
    artifact_type="cloudformation",
    title="ECS container root filesystem is writable",
    severity="low",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "A writable root filesystem lets an attacker who gets code execution in the "
        "container drop tools, modify binaries or plant persistence. A read-only root "
        "filesystem, with volumes for the paths that must be written, removes that option."
    ),
    remediation=(
        "```yaml\nContainerDefinitions:\n  - Name: app\n    ReadonlyRootFilesystem: true\n"
        "    MountPoints:\n      - SourceVolume: tmp\n        ContainerPath: /tmp\n"
        "Volumes:\n  - Name: tmp\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-5",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_security",
    ),
)
def writable_root_filesystem(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_TASK):
        if _windows(tpl, res):
            continue  # not supported by Windows containers
        names: list[str] = []
        first_line = None
        for item, path, name in _containers(tpl, res):
            value = item.get("ReadonlyRootFilesystem", MISSING)
            values = [MISSING] if value is MISSING else tpl.possible_values(value)
            if all(truthy(v) is True for v in values):
                continue
            names.append(name)
            line = (
                res.prop_line(*path)
                if value is MISSING
                else _line(res, item, path, "ReadonlyRootFilesystem")
            )
            first_line = first_line or line
        if names:
            yield Hit(
                f"container(s) {', '.join(names)} do not have ReadonlyRootFilesystem: true",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECS-003",
    controls=("fsbp ECS.8", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Secret in ECS container environment",
    severity="high",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "Environment values of a task definition are stored in clear in the task definition, "
        "visible to anyone allowed to describe it, kept in every revision and in the "
        "template's history, and exposed to everything running in the container."
    ),
    remediation=(
        "Reference the secret instead; ECS injects it at start:\n"
        "```yaml\nContainerDefinitions:\n  - Name: app\n    Secrets:\n"
        "      - Name: DB_PASSWORD\n        ValueFrom: !Ref DatabaseSecret\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-8",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    ),
)
def secret_in_container_environment(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_TASK):
        found: list[str] = []
        first_line = None
        for item, path, name in _containers(tpl, res):
            for index, variable in enumerate(as_list(item.get("Environment"))):
                if not isinstance(variable, dict):
                    continue
                var_name = variable.get("Name")
                if not isinstance(var_name, str) or not is_secret_name(var_name):
                    continue
                if not is_literal_secret_value(variable.get("Value")):
                    continue
                found.append(f"{var_name} ({name})")
                first_line = first_line or _line(
                    res, variable, (*path, "Environment", index), "Value"
                )
        if found:
            yield Hit(
                f"environment variable(s) {', '.join(found)} hold literal values",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECS-004",
    controls=("fsbp ECS.1",),
    artifact_type="cloudformation",
    title="ECS task uses the host network mode",
    severity="medium",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "In host network mode, containers share the instance's network stack: they can bind "
        "any host port, see the traffic of the host's interfaces, and reach the instance "
        "metadata service (and so the instance role's credentials) with no task-level "
        "isolation or security group of their own."
    ),
    remediation=(
        "```yaml\nAppTask:\n  Type: AWS::ECS::TaskDefinition\n  Properties:\n"
        "    NetworkMode: awsvpc\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-1",
        "https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/networking-networkmode.html",
    ),
)
def host_network_mode(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_TASK):
        value = res.prop("NetworkMode", default=MISSING)
        if value is MISSING or value is None:
            continue
        values = tpl.possible_values(value)
        line = res.prop_line("NetworkMode")
        if any(_text(v) == "host" for v in values):
            yield Hit("NetworkMode can be host", line=line, resource=res.logical_id)
        elif any(v is not NO_VALUE and not isinstance(v, str) for v in values):
            yield Hit(
                f"NetworkMode comes from {describe(value)}, which cannot be resolved from the "
                "template: make sure it is not host",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECS-005",
    controls=("fsbp ECS.1", "nist-800-53-r5 AC-6"),
    artifact_type="cloudformation",
    title="ECS container configured to run as root",
    severity="medium",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "A container whose User is root (or UID 0) runs the application with full privileges "
        "inside the container: any code execution can change the image's files, read every "
        "mounted secret, and exploit kernel or runtime flaws from the strongest position."
    ),
    remediation=(
        "Run as an unprivileged user (created in the image):\n"
        "```yaml\nContainerDefinitions:\n  - Name: app\n    User: '10001:10001'\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-1",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_security",
    ),
)
def container_runs_as_root(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_TASK):
        root: list[str] = []
        unknown: list[str] = []
        first_line = None
        for item, path, name in _containers(tpl, res):
            if "User" not in item:
                continue  # the image's USER applies (see the Dockerfile rules)
            values = tpl.possible_values(item["User"])
            users = [str(v).split(":", 1)[0].strip() for v in values if isinstance(v, str | int)]
            if any(user in _ROOT_USERS for user in users):
                root.append(name)
            elif any(v is not NO_VALUE and not isinstance(v, str | int) for v in values):
                unknown.append(name)
            else:
                continue
            first_line = first_line or _line(res, item, path, "User")
        if root:
            yield Hit(
                f"container(s) {', '.join(root)} run as root",
                line=first_line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"User of container(s) {', '.join(unknown)} cannot be resolved from the "
                "template: make sure it is not root",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ECS-006",
    artifact_type="cloudformation",
    title="ECS task definition without a task role",
    severity="medium",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "Without TaskRoleArn, the containers of a task have no IAM role of their own: on the "
        "EC2 launch type, AWS SDKs in them fall back to the container instance's role (shared "
        "by every task on the host, usually broad), and the task's calls cannot be told "
        "apart or limited to what it needs."
    ),
    remediation=(
        "```yaml\nAppTask:\n  Type: AWS::ECS::TaskDefinition\n  Properties:\n"
        "    TaskRoleArn: !GetAtt AppTaskRole.Arn\n"
        "    ExecutionRoleArn: !GetAtt AppExecutionRole.Arn\n```\nand block the instance "
        "role with `ECS_AWSVPC_BLOCK_IMDS` / `ECS_ENABLE_TASK_IAM_ROLE` on the hosts."
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/security-iam-roles.html",
    ),
)
def task_without_role(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _TASK, present, "TaskRoleArn", what="containers have no role of their own")


@rule(
    id="CF-ECS-007",
    controls=("fsbp ECS.12",),
    artifact_type="cloudformation",
    title="ECS cluster without Container Insights",
    severity="low",
    resource_types=("AWS::ECS::Cluster",),
    description=(
        "Container Insights collects per-task and per-service CPU, memory, network and "
        "restart metrics; without them, a crash-looping or resource-starved (or hijacked, "
        "crypto-mining) task is hard to notice. It is on only when ClusterSettings sets "
        "containerInsights to enabled or enhanced. Relates to AWS FSBP ECS.12."
    ),
    remediation=(
        "```yaml\nAppCluster:\n  Type: AWS::ECS::Cluster\n  Properties:\n"
        "    ClusterSettings:\n      - Name: containerInsights\n        Value: enabled\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-12",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html",
    ),
)
def cluster_without_insights(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::ECS::Cluster"):
        settings = [s for s in as_list(res.prop("ClusterSettings")) if isinstance(s, dict)]
        insights = [s for s in settings if _text(s.get("Name")) == "containerInsights"]
        values = {str(v).lower() for s in insights for v in tpl.possible_values(s.get("Value"))}
        if not insights:
            yield Hit(
                "ClusterSettings does not enable containerInsights",
                res.prop_line("ClusterSettings"),
                res.logical_id,
            )
        elif not values <= {"enabled", "enhanced"}:
            yield Hit(
                "containerInsights can be disabled",
                item_line(insights[0], "Value") or res.prop_line("ClusterSettings"),
                res.logical_id,
            )


@rule(
    id="CF-ECS-008",
    controls=("fsbp ECS.2", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="ECS service assigns public IP addresses",
    severity="medium",
    resource_types=("AWS::ECS::Service",),
    description=(
        "AwsvpcConfiguration.AssignPublicIp ENABLED gives every task of the service a public "
        "address, reachable from the internet wherever its security groups allow it. Tasks "
        "behind a load balancer, or pulling images through a NAT gateway or VPC endpoints, "
        "need none. Relates to AWS FSBP ECS.2."
    ),
    remediation=(
        "```yaml\nNetworkConfiguration:\n  AwsvpcConfiguration:\n    AssignPublicIp: DISABLED\n"
        "    Subnets: [!Ref PrivateSubnetA, !Ref PrivateSubnetB]\n```"
    ),
    references=(
        f"{_HUB}/ecs-controls.html#ecs-2",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html",
    ),
)
def service_public_ip(tpl: Template) -> Iterator[Hit]:
    path = ("NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp")
    return each(
        tpl, "AWS::ECS::Service", none_of, *path, bad=("ENABLED",), what="tasks get public IPs"
    )


@rule(
    id="CF-BATCH-001",
    controls=("nist-800-53-r5 AC-6",),
    artifact_type="cloudformation",
    title="Batch job definition runs privileged containers",
    severity="high",
    resource_types=("AWS::Batch::JobDefinition",),
    description=(
        "ContainerProperties.Privileged: true gives the job's container root access to the "
        "host's devices and kernel: a job (or a dependency it downloads) can escape to the "
        "compute environment's instance and every other job running there."
    ),
    remediation="Remove `Privileged` (or set it to false) from the job's ContainerProperties.",
    references=(
        "https://docs.aws.amazon.com/batch/latest/userguide/job_definition_parameters.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-batch-jobdefinition-containerproperties.html",
    ),
)
def batch_privileged(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::Batch::JobDefinition",
        disabled,
        "ContainerProperties",
        "Privileged",
        what="the container has root on the host",
    )


@rule(
    id="CF-ECR-004",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="ECR repository not encrypted with a KMS key",
    severity="low",
    resource_types=("AWS::ECR::Repository",),
    description=(
        "Without EncryptionConfiguration.EncryptionType KMS, ECR encrypts image layers with "
        "S3-managed keys: who can pull the images is then decided by IAM and the repository "
        "policy alone, with no key policy to limit it and no CloudTrail record of each "
        "decryption. Images often embed code, configuration and credentials."
    ),
    remediation=(
        "```yaml\nApiRepository:\n  Type: AWS::ECR::Repository\n  Properties:\n"
        "    EncryptionConfiguration:\n      EncryptionType: KMS\n"
        "      KmsKey: !GetAtt ImagesKey.Arn\n```\n(set at creation; changing it replaces "
        "the repository)"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html",
        f"{_HUB}/ecr-controls.html",
    ),
)
def repository_without_kms(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::ECR::Repository",
        one_of,
        "EncryptionConfiguration",
        "EncryptionType",
        good=("KMS", "KMS_DSSE"),
        what="images are encrypted with S3-managed keys only",
    )


@rule(
    id="CF-ECS-009",
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="ECS task mounts EFS without encryption in transit",
    severity="medium",
    resource_types=("AWS::ECS::TaskDefinition",),
    description=(
        "An EFSVolumeConfiguration whose TransitEncryption is not ENABLED (DISABLED is the "
        "default) mounts the file system over plain NFS: every file the task reads or writes "
        "crosses the network unencrypted, and an EFS file system policy requiring "
        "aws:SecureTransport refuses the mount."
    ),
    remediation=(
        "```yaml\nVolumes:\n  - Name: shared\n    EFSVolumeConfiguration:\n"
        "      FilesystemId: !Ref SharedFiles\n      TransitEncryption: ENABLED\n"
        "      AuthorizationConfig:\n        AccessPointId: !Ref AppAccessPoint\n"
        "        IAM: ENABLED\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html",
        "https://docs.aws.amazon.com/efs/latest/ug/encryption-in-transit.html",
    ),
)
def efs_volume_without_tls(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_TASK):
        for index, volume in enumerate(as_list(res.prop("Volumes"))):
            if not isinstance(volume, dict) or "EFSVolumeConfiguration" not in volume:
                continue
            hit = one_of(
                tpl,
                res,
                "Volumes",
                index,
                "EFSVolumeConfiguration",
                "TransitEncryption",
                good=("ENABLED",),
                what="the file system is mounted over plain NFS",
                label=f"volume {volume.get('Name', index)!s}: TransitEncryption",
            )
            if hit:
                yield hit
