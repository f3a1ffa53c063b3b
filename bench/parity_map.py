"""Concept map for the parity report: which of their checks mean the same as which of our rules.

A concept is one thing a rule looks for ("S3 bucket without default encryption"). Each entry
names the checkov check ids and/or hadolint codes that flag it and our rule ids that flag it;
bench/parity.py compares the findings per concept, resource by resource (CloudFormation: file +
logical id) or line by line (Dockerfile: file + instruction line; `file` granularity for checks
about the whole image, such as a missing HEALTHCHECK).

`ours=()` marks a concept only they cover (a gap, reported but not counted in the shared
share). When a rule is added, put its id in `ours`; ids that are not registered (yet) are
printed and ignored. `ours_at` keeps only our findings whose line holds that instruction (one
rule of ours can cover two of their concepts, e.g. DF-USER-001 = no USER at all, or USER root).

`why_theirs` / `why_ours` are the written reasons for findings only they / only we report,
classified from a sample of the differences (see docs/parity.md): *their false positive*,
*our false negative*, *our planned gap*, *different semantics*, *different anchor*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Artifact = Literal["cloudformation", "dockerfile"]
Granularity = Literal["resource", "line", "file"]


@dataclass(frozen=True)
class Concept:
    key: str
    title: str
    artifact: Artifact
    ours: tuple[str, ...]
    checkov: tuple[str, ...] = ()
    hadolint: tuple[str, ...] = ()
    granularity: Granularity = "resource"
    ours_at: str | None = None  # Dockerfile: keep our findings on lines with this instruction
    why_theirs: str = ""  # reason for findings only they report
    why_ours: str = ""  # reason for findings only we report


def _cfn(
    key: str, title: str, ours: tuple[str, ...], checkov: tuple[str, ...], **kw: str
) -> Concept:
    return Concept(key, title, "cloudformation", ours, checkov=checkov, **kw)  # type: ignore[arg-type]


CONCEPTS: tuple[Concept, ...] = (
    # -- CloudFormation: checkov ---------------------------------------------------------------
    _cfn(
        "s3-encryption",
        "S3 bucket without default encryption",
        ("CF-S3-001",),
        ("CKV_AWS_19",),
        why_theirs=(
            "their false positive: SSEAlgorithm is chosen by Fn::If between aws:kms and AES256, "
            "encrypted either way"
        ),
        why_ours=(
            "different semantics: S3 encrypts every new bucket with SSE-S3 since January 2023 and"
            " CKV_AWS_19 accepts a bucket without BucketEncryption; CF-S3-001 asks for an "
            "explicit configuration by design"
        ),
    ),
    _cfn(
        "s3-public-access-block",
        "S3 public access block missing or partial",
        ("CF-S3-002",),
        ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        why_theirs=(
            "not deployed: the bucket's Condition is false with the parameter defaults (we skip "
            "such resources; checkov ignores Conditions)"
        ),
    ),
    _cfn(
        "s3-public-acl", "S3 ACL grants public access", ("CF-S3-003",), ("CKV_AWS_20", "CKV_AWS_57")
    ),
    _cfn("s3-versioning", "S3 versioning not enabled", ("CF-S3-004",), ("CKV_AWS_21",)),
    _cfn(
        "s3-access-logging",
        "S3 server access logging disabled",
        ("CF-S3-005",),
        ("CKV_AWS_18",),
        why_theirs=(
            "by design: the bucket is itself an access-log destination (or not deployed); logging"
            " a log bucket into itself loops, so CF-S3-005 skips it"
        ),
        why_ours=(
            "different semantics: LoggingConfiguration is set through Fn::If with AWS::NoValue; "
            "checkov sees the key and passes, we flag the branch without it"
        ),
    ),
    _cfn(
        "sg-admin-port-world",
        "SSH/RDP open to 0.0.0.0/0 (ours: CF-EC2-001, or CF-EC2-002 for all ports)",
        ("CF-EC2-001", "CF-EC2-002"),
        ("CKV_AWS_24", "CKV_AWS_25"),
        why_theirs=(
            "our false negative: an IPv6 world range written in full (`0000:…:0000/0`) is not "
            "recognised; normalise CIDRs with `ipaddress.ip_network(..., strict=False)`"
        ),
        why_ours=(
            "their false negative: IpProtocol -1 (all traffic) from 0.0.0.0/0 also opens 22/3389;"
            " CKV_AWS_24/25 miss it (we report CF-EC2-002)"
        ),
    ),
    _cfn("sg-http-world", "Port 80 open to 0.0.0.0/0", (), ("CKV_AWS_260",)),
    _cfn("sg-rule-description", "Security group rule without description", (), ("CKV_AWS_23",)),
    _cfn(
        "ec2-public-ip",
        "Instance / launch template gets a public IP",
        ("CF-EC2-006", "CF-LT-003"),
        ("CKV_AWS_88",),
    ),
    _cfn("imdsv2", "Launch template allows IMDSv1", ("CF-LT-001",), ("CKV_AWS_79",)),
    _cfn("ebs-encryption", "EBS volume not encrypted", ("CF-EBS-001",), ("CKV_AWS_3",)),
    _cfn(
        "launch-config-encryption",
        "Launch configuration volume not encrypted",
        ("CF-LT-002",),
        ("CKV_AWS_8",),
    ),
    _cfn(
        "rds-encryption",
        "RDS / Aurora storage not encrypted",
        ("CF-RDS-001",),
        ("CKV_AWS_16", "CKV_AWS_96"),
        why_theirs=(
            "their false positive: read replicas (SourceDBInstanceIdentifier), Aurora cluster "
            "members (DBClusterIdentifier) and Aurora Serverless v1 clusters inherit or force "
            "encryption; CF-RDS-001 skips them"
        ),
    ),
    _cfn("rds-public", "RDS instance publicly accessible", ("CF-RDS-002",), ("CKV_AWS_17",)),
    _cfn(
        "rds-iam-auth",
        "RDS IAM database authentication disabled",
        ("CF-RDS-005",),
        ("CKV_AWS_161", "CKV_AWS_162"),
        why_theirs=(
            "their false positive: Aurora Serverless v1 (EngineMode serverless) does not support "
            "IAM database authentication"
        ),
    ),
    _cfn(
        "rds-multi-az",
        "RDS instance not Multi-AZ",
        ("CF-RDS-006",),
        ("CKV_AWS_157",),
        why_theirs=(
            "their false positive: read replicas and Aurora cluster members get Multi-AZ from "
            "their source / cluster; CF-RDS-006 skips them"
        ),
    ),
    _cfn("rds-enhanced-monitoring", "RDS enhanced monitoring off", (), ("CKV_AWS_118",)),
    _cfn("kms-rotation", "KMS key rotation disabled", ("CF-KMS-001",), ("CKV_AWS_7",)),
    _cfn(
        "kms-policy-any-principal",
        "KMS key policy allows *",
        ("CF-KMS-002",),
        ("CKV_AWS_33",),
        why_ours=(
            "different semantics: the principal comes from a parameter that cannot be resolved; "
            "we report unresolvable principals, checkov only a literal *"
        ),
    ),
    _cfn("iam-admin", "IAM policy allows * on *", ("CF-IAM-001",), ("CKV_AWS_62",)),
    _cfn("iam-user-policies", "IAM policy attached to a user", ("CF-IAM-003",), ("CKV_AWS_40",)),
    _cfn("iam-assume-anyone", "IAM role assumable by anyone", ("CF-IAM-005",), ("CKV_AWS_60",)),
    _cfn("iam-star-action", 'IAM statement with Action "*" (any resource)', (), ("CKV_AWS_63",)),
    _cfn(
        "iam-cloudsplaining",
        "IAM write/permissions-management/exfiltration without constraints",
        (),
        ("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111"),
    ),
    _cfn(
        "trail-validation", "CloudTrail log file validation off", ("CF-TRAIL-001",), ("CKV_AWS_36",)
    ),
    _cfn("trail-multi-region", "CloudTrail single region", ("CF-TRAIL-002",), ("CKV_AWS_67",)),
    _cfn("trail-kms", "CloudTrail logs not KMS-encrypted", ("CF-TRAIL-003",), ("CKV_AWS_35",)),
    _cfn("lambda-env-secret", "Secret in Lambda environment", ("CF-LAMBDA-001",), ("CKV_AWS_45",)),
    _cfn("lambda-url-auth", "Lambda URL without auth", ("CF-LAMBDA-003",), ("CKV_AWS_258",)),
    _cfn(
        "lambda-deprecated-runtime",
        "Lambda deprecated runtime",
        ("CF-LAMBDA-004",),
        ("CKV_AWS_363",),
        why_ours=(
            "their false negative: checkov 3.3.30's deprecated-runtime list stops at python3.9 / "
            "nodejs16.x; ours follows AWS's dated schedule (python3.8, python3.10, ...)"
        ),
    ),
    _cfn("lambda-dlq", "Lambda without dead-letter queue", ("CF-LAMBDA-005",), ("CKV_AWS_116",)),
    _cfn("lambda-vpc", "Lambda outside a VPC", ("CF-LAMBDA-006",), ("CKV_AWS_117",)),
    _cfn(
        "lambda-concurrency",
        "Lambda without reserved concurrency",
        ("CF-LAMBDA-007",),
        ("CKV_AWS_115",),
    ),
    _cfn("lambda-env-kms", "Lambda environment not KMS-encrypted", (), ("CKV_AWS_173",)),
    _cfn(
        "sqs-encryption",
        "SQS queue not encrypted",
        ("CF-SQS-001",),
        ("CKV_AWS_27",),
        why_theirs=(
            "their false positive (outdated): SQS encrypts new queues with SSE-SQS by default "
            "since 2022; CF-SQS-001 flags only queues where it is switched off"
        ),
    ),
    _cfn("sns-encryption", "SNS topic not encrypted", ("CF-SNS-001",), ("CKV_AWS_26",)),
    _cfn(
        "dynamodb-pitr",
        "DynamoDB point-in-time recovery off",
        ("CF-DDB-001",),
        ("CKV_AWS_28", "CKV_AWS_165"),
    ),
    _cfn("dynamodb-cmk", "DynamoDB not encrypted with a CMK", ("CF-DDB-002",), ("CKV_AWS_119",)),
    _cfn(
        "apigw-access-logs",
        "API Gateway REST stage access logs",
        ("CF-APIGW-001",),
        ("CKV_AWS_76",),
    ),
    _cfn(
        "apigw-v2-access-logs",
        "API Gateway v2 stage access logs",
        ("CF-APIGW-006",),
        ("CKV_AWS_95",),
    ),
    _cfn("apigw-xray", "API Gateway stage X-Ray tracing", ("CF-APIGW-002",), ("CKV_AWS_73",)),
    _cfn(
        "apigw-method-auth",
        "API Gateway method without auth",
        ("CF-APIGW-004",),
        ("CKV_AWS_59",),
        why_ours=(
            "their false negative: CKV_AWS_59 fails only a literal `NONE` with HttpMethod "
            "present; a missing, lower-case or parameter-driven AuthorizationType passes"
        ),
        why_theirs=(
            "likely different semantics: HttpMethod comes from a parameter that may be OPTIONS "
            "(CORS pre-flight needs no auth) — TBD — review"
        ),
    ),
    _cfn("apigw-caching", "API Gateway caching disabled", (), ("CKV_AWS_120",)),
    _cfn("cloudfront-https", "CloudFront allows HTTP", ("CF-CFRONT-001",), ("CKV_AWS_34",)),
    _cfn(
        "cloudfront-tls",
        "CloudFront viewer TLS < 1.2",
        ("CF-CFRONT-002",),
        ("CKV_AWS_174",),
        why_theirs=(
            "different semantics: the distribution uses (or may use, via Fn::If) CloudFront's "
            "default certificate, whose TLS 1.0 floor cannot be raised; checkov fails it, "
            "CF-CFRONT-002 judges custom certificates only — worth a decision"
        ),
    ),
    _cfn("cloudfront-waf", "CloudFront without WAF", ("CF-CFRONT-003",), ("CKV_AWS_68",)),
    _cfn("cloudfront-logging", "CloudFront without logging", ("CF-CFRONT-004",), ("CKV_AWS_86",)),
    _cfn(
        "cloudfront-origin-https",
        "CloudFront custom origin over HTTP",
        ("CF-CFRONT-005",),
        ("CKV2_AWS_72",),
    ),
    _cfn("elb-https", "Load balancer listener over HTTP", ("CF-ELB-001",), ("CKV_AWS_2",)),
    _cfn(
        "elb-tls",
        "Load balancer listener TLS < 1.2",
        ("CF-ELB-002",),
        ("CKV_AWS_103",),
        why_theirs=(
            "different concept: CKV_AWS_103 also fails plain-HTTP listeners (no TLS at all); we "
            "report those as CF-ELB-001 (HTTP without redirect to HTTPS)"
        ),
    ),
    _cfn(
        "elb-access-logs",
        "Load balancer access logging off",
        ("CF-ELB-003",),
        ("CKV_AWS_91", "CKV_AWS_92"),
        why_theirs=(
            "by design: CF-ELB-003 covers application and classic load balancers only; a network "
            "load balancer writes access logs for TLS listeners only"
        ),
    ),
    _cfn("alb-drop-headers", "ALB keeps invalid headers", ("CF-ELB-004",), ("CKV_AWS_131",)),
    _cfn("es-encryption", "OpenSearch not encrypted at rest", ("CF-ES-001",), ("CKV_AWS_5",)),
    _cfn("es-node-to-node", "OpenSearch node-to-node encryption", ("CF-ES-002",), ("CKV_AWS_6",)),
    _cfn("es-https", "OpenSearch does not enforce HTTPS", ("CF-ES-003",), ("CKV_AWS_83",)),
    _cfn("ecr-scan", "ECR scan on push off", ("CF-ECR-001",), ("CKV_AWS_163",)),
    _cfn("ecr-mutable", "ECR tags mutable", ("CF-ECR-002",), ("CKV_AWS_51",)),
    _cfn(
        "ecr-public-policy",
        "ECR policy public",
        ("CF-ECR-003",),
        ("CKV_AWS_32",),
        why_theirs=(
            'their false positive: the `Principal: "*"` statement is a Deny (it enforces TLS)'
        ),
    ),
    _cfn("eks-secrets-kms", "EKS secrets not encrypted", ("CF-EKS-002",), ("CKV_AWS_58",)),
    _cfn("logs-retention", "Log group never expires", ("CF-LOGS-001",), ("CKV_AWS_66",)),
    _cfn(
        "logs-kms",
        "Log group not KMS-encrypted",
        ("CF-LOGS-002",),
        ("CKV_AWS_158",),
        why_ours=(
            "different semantics: KmsKeyId is set through Fn::If with AWS::NoValue; checkov sees "
            "the key and passes, we flag the branch without a key"
        ),
    ),
    _cfn(
        "secret-cmk",
        "Secrets Manager secret without CMK",
        ("CF-SM-002",),
        ("CKV_AWS_149",),
        why_ours=(
            "different semantics: KmsKeyId can resolve to the AWS managed key "
            "alias/aws/secretsmanager (parameter default or Fn::If); checkov only checks that the"
            " key is present"
        ),
    ),
    _cfn(
        "elasticache-encryption",
        "ElastiCache encryption at rest / in transit",
        (),
        ("CKV_AWS_29", "CKV_AWS_30", "CKV_AWS_31"),
    ),
    _cfn("kinesis-encryption", "Kinesis stream not encrypted", (), ("CKV_AWS_43",)),
    _cfn("efs-encryption", "EFS not encrypted", (), ("CKV_AWS_42",)),
    _cfn(
        "redshift",
        "Redshift encryption / public / logging / VPC",
        (),
        (
            "CKV_AWS_64",
            "CKV_AWS_87",
            "CKV_AWS_71",
            "CKV_AWS_154",
        ),
    ),  # fmt: skip
    _cfn(
        "docdb-neptune",
        "DocumentDB / Neptune encryption, logging, backups",
        (),
        (
            "CKV_AWS_74",
            "CKV_AWS_85",
            "CKV_AWS_360",
            "CKV_AWS_44",
            "CKV_AWS_101",
            "CKV_AWS_361",
        ),
    ),  # fmt: skip
    # -- Dockerfile: hadolint and checkov ------------------------------------------------------
    Concept(
        "df-base-unpinned",
        "Base image without tag or :latest",
        "dockerfile",
        ("DF-BASE-001",),
        checkov=("CKV_DOCKER_7",),
        hadolint=("DL3006", "DL3007"),
        granularity="line",
        why_theirs=(
            "our false negative: `FROM gcc AS gcc` names the image gcc (an alias cannot refer to "
            "itself), but DF-BASE-001 takes it for a reference to a stage"
        ),
        why_ours=(
            "their false negative: a later stage's `FROM alpine:latest` or an untagged image "
            "(checkov reports one FROM per file)"
        ),
    ),
    Concept(
        "df-no-healthcheck",
        "No HEALTHCHECK",
        "dockerfile",
        ("DF-HEALTH-001",),
        checkov=("CKV_DOCKER_2",),
        hadolint=("DL3057",),  # off in hadolint's default config
        granularity="file",
        why_ours="not a disagreement: hadolint's DL3057 is off in its default configuration",
    ),
    Concept(
        "df-no-user",
        "No USER: runs as root",
        "dockerfile",
        ("DF-USER-001",),
        checkov=("CKV_DOCKER_3",),
        granularity="file",
        ours_at="FROM",
    ),
    Concept(
        "df-root-user",
        "Last USER is root",
        "dockerfile",
        ("DF-USER-001",),
        checkov=("CKV_DOCKER_8",),
        hadolint=("DL3002",),
        granularity="line",
        ours_at="USER",
    ),
    Concept(
        "df-add-local",
        "ADD for local files (use COPY)",
        "dockerfile",
        ("DF-ADD-001",),
        hadolint=("DL3020",),
        granularity="line",
    ),
    Concept(
        "df-add-any",
        "ADD used at all (checkov flags every ADD)",
        "dockerfile",
        ("DF-ADD-001", "DF-ADD-002"),
        checkov=("CKV_DOCKER_4",),
        granularity="line",
    ),
    Concept(
        "df-ssh-port",
        "EXPOSE 22",
        "dockerfile",
        ("DF-PORT-001",),
        checkov=("CKV_DOCKER_1",),
        granularity="line",
    ),
    Concept(
        "df-shell-form",
        "CMD/ENTRYPOINT in shell form",
        "dockerfile",
        ("DF-CMD-001",),
        hadolint=("DL3025",),
        granularity="line",
        why_ours="TBD — review",
    ),
    Concept(
        "df-apt-flags",
        "apt-get install without -y / --no-install-recommends",
        "dockerfile",
        ("DF-RUN-002",),
        hadolint=("DL3014", "DL3015"),
        granularity="line",
        why_theirs=(
            "their false positive: `apt-get install -s` (simulate) installs nothing; DF-RUN-002 "
            "skips dry runs"
        ),
        why_ours=(
            "their false negative: the command runs inside `bash -c '…'`, which hadolint does not"
            " parse"
        ),
    ),
    Concept(
        "df-apt-pin",
        "apt-get install without pinned versions",
        "dockerfile",
        ("DF-PKG-001",),
        hadolint=("DL3008",),
        granularity="line",
        why_theirs=(
            "our planned gap: the packages are named through a shell variable set in the same RUN"
            " (`$buildDeps`), which we do not expand"
        ),
        why_ours=(
            "their false negative: inside `bash -c '…'`, or `apt install` (DL3008 only looks at "
            "apt-get)"
        ),
    ),
    Concept(
        "df-apt-lists",
        "apt lists not removed",
        "dockerfile",
        ("DF-PKG-002",),
        hadolint=("DL3009",),
        granularity="line",
        why_theirs=(
            "their false positive: `apt-get dist-clean` (Debian 13) removes the lists; hadolint "
            "only knows `rm -rf /var/lib/apt/lists`"
        ),
        why_ours="their false negative: inside `bash -c '…'`, which hadolint does not parse",
    ),
    Concept(
        "df-apt-not-apt-get",
        "apt used instead of apt-get",
        "dockerfile",
        ("DF-PKG-003",),
        checkov=("CKV_DOCKER_9",),
        hadolint=("DL3027",),
        granularity="line",
        why_ours=(
            "their false negative: CKV_DOCKER_9 only matches `apt install`, not `apt update`"
        ),
    ),
    Concept(
        "df-apk-no-cache",
        "apk add without --no-cache",
        "dockerfile",
        ("DF-PKG-004",),
        hadolint=("DL3019",),
        granularity="line",
        why_ours=(
            "our false positive: `apk add --no-network` downloads no index, so there is no cache "
            "to keep; DF-PKG-004 should skip it"
        ),
    ),
    Concept(
        "df-apk-pin",
        "apk add without pinned versions",
        "dockerfile",
        ("DF-PKG-005",),
        hadolint=("DL3018",),
        granularity="line",
        why_theirs=(
            "our planned gap: packages named through a shell variable set in the same RUN "
            "(`$pkg`, `$buildDeps`)"
        ),
        why_ours="their false negative: inside `bash -c '…'`, which hadolint does not parse",
    ),
    Concept(
        "df-yum-yes",
        "yum/dnf without -y",
        "dockerfile",
        ("DF-PKG-006",),
        hadolint=("DL3030", "DL3038"),
        granularity="line",
    ),
    Concept(
        "df-yum-clean",
        "yum/dnf cache not cleaned",
        "dockerfile",
        ("DF-PKG-007",),
        hadolint=("DL3032", "DL3040"),
        granularity="line",
    ),
    Concept(
        "df-yum-pin",
        "yum/dnf without pinned versions",
        "dockerfile",
        ("DF-PKG-008",),
        hadolint=("DL3033", "DL3041"),
        granularity="line",
        why_theirs=(
            "our planned gap: packages named through a shell variable set in the same RUN (`$pkg`)"
        ),
        why_ours="their false negative: inside `bash -c '…'`, which hadolint does not parse",
    ),
    Concept(
        "df-maintainer",
        "MAINTAINER is deprecated",
        "dockerfile",
        ("DF-META-001",),
        checkov=("CKV_DOCKER_6",),
        hadolint=("DL4000",),
        granularity="line",
    ),
    Concept(
        "df-relative-workdir",
        "Relative WORKDIR",
        "dockerfile",
        ("DF-META-002",),
        checkov=("CKV_DOCKER_10",),
        hadolint=("DL3000",),
        granularity="line",
        why_theirs=(
            "different semantics (by design): a relative WORKDIR after an absolute one is well "
            "defined; DF-META-002 flags only a relative WORKDIR with no absolute one before it"
        ),
    ),
    Concept(
        "df-cd",
        "cd in RUN instead of WORKDIR",
        "dockerfile",
        ("DF-SHELL-001",),
        hadolint=("DL3003",),
        granularity="line",
        why_theirs=(
            "different semantics (by design): DF-SHELL-001 flags a RUN that *starts* with cd "
            "(setting the directory); hadolint flags any cd inside a multi-step RUN script, e.g. "
            "`cd /usr/local/go/src; ./make.bash`"
        ),
    ),
    Concept(
        "df-pipefail",
        "Pipe in RUN without pipefail",
        "dockerfile",
        ("DF-SHELL-002",),
        hadolint=("DL4006",),
        granularity="line",
        why_theirs=(
            'their false positive, mostly: the producer cannot fail (`echo "$sha256 *go.tgz" | '
            'sha256sum -c -`, `$(echo "$src" | tr -d 3)`), or the consumer fails on empty '
            "input anyway (`grep … SHASUMS256.txt | sha256sum -c -`); DF-SHELL-002 ignores "
            "those pipes, hadolint flags every pipe"
        ),
        why_ours=(
            "our false positive: the `|` separates patterns of a shell `case` (`a | b)`), it is "
            "not a pipeline"
        ),
    ),
    Concept(
        "df-sudo",
        "sudo in RUN",
        "dockerfile",
        ("DF-USER-002",),
        checkov=("CKV2_DOCKER_1",),
        hadolint=("DL3004",),
        granularity="line",
        why_theirs=(
            "their false positive: the RUN installs the sudo package (`apt-get install … sudo`) "
            "without running sudo; we report that as DF-USER-003"
        ),
    ),
    Concept(
        "df-multiple-cmd",
        "CMD given more than once in a stage",
        "dockerfile",
        ("DF-CMD-002",),
        hadolint=("DL4003",),
        granularity="file",
    ),
    Concept(
        "df-multiple-entrypoint",
        "ENTRYPOINT given more than once in a stage",
        "dockerfile",
        ("DF-CMD-003",),
        hadolint=("DL4004",),
        granularity="file",
    ),
    Concept(
        "df-multiple-healthcheck",
        "HEALTHCHECK given more than once",
        "dockerfile",
        ("DF-HEALTH-003",),
        hadolint=("DL3012",),
        granularity="file",
    ),
    Concept(
        "df-tls-verification-off",
        "TLS certificate verification turned off (curl -k, wget --no-check-certificate, ...)",
        "dockerfile",
        ("DF-RUN-004", "DF-PKG-011"),
        checkov=tuple(f"CKV2_DOCKER_{n}" for n in (2, 3, 4, 5, 6, 12, 13, 14, 15, 16)),
        granularity="line",
    ),
    Concept(
        "df-pip-pin",
        "pip install without pinned versions",
        "dockerfile",
        ("DF-PKG-010",),
        hadolint=("DL3013",),
        granularity="line",
        why_ours=(
            "different semantics: we want an exact `==` pin; hadolint accepts a range such as "
            "`wheel<0.46`"
        ),
    ),
    Concept(
        "df-pip-cache",
        "pip install without --no-cache-dir",
        "dockerfile",
        ("DF-PKG-009",),
        hadolint=("DL3042",),
        granularity="line",
        why_theirs=(
            "by design: the pip install runs in a build stage whose files do not reach the final "
            "image"
        ),
    ),
    Concept(
        "df-npm-pin",
        "npm install -g without a pinned version",
        "dockerfile",
        ("DF-PKG-013",),
        hadolint=("DL3016",),
        granularity="line",
    ),
    Concept(
        "df-other-pins",
        "gem / go install without pinned versions",
        "dockerfile",
        (),
        hadolint=("DL3028", "DL3062"),
        granularity="line",
    ),
    Concept(
        "df-unsigned-packages",
        "Packages installed without signature checks (--allow-untrusted, --nogpgcheck, ...)",
        "dockerfile",
        ("DF-PKG-017",),
        checkov=tuple(f"CKV2_DOCKER_{n}" for n in (7, 8, 9, 10, 11)),
        granularity="line",
        why_ours=(
            "their false negative: `trusted=yes` / `allow-insecure=yes` in an apt source; "
            "CKV2_DOCKER_8 only looks for --allow-unauthenticated"
        ),
    ),
    Concept(
        "df-update-alone",
        "Package index updated in a RUN of its own",
        "dockerfile",
        ("DF-PKG-015",),
        checkov=("CKV_DOCKER_5",),
        granularity="line",
    ),
    Concept(
        "df-consecutive-run",
        "Consecutive RUN instructions",
        "dockerfile",
        (),
        hadolint=("DL3059",),
        granularity="line",
    ),
)
