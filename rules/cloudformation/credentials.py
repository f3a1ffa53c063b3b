"""Credentials written in templates: secret-bearing properties and the parameters feeding them.

Which properties hold a credential comes from the CloudFormation resource schemas
(`_secret_properties.py`, generated). A property is reported when its value is written in the
template (a literal, or `Fn::Sub`/`Fn::Join` of literals) or is a `Ref` to a parameter whose
`Default` holds a value; dynamic references (`{{resolve:secretsmanager:...}}`) and parameters
without a default are how it should be done. Services with a managed alternative get a rule of
their own (with its remediation); CF-CRED-001 covers every other property of the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import LineDict, Resource, Template, is_intrinsic
from rules._secrets import is_secret_name
from rules.cloudformation._helpers import as_list, item_line, truthy, written
from rules.cloudformation._secret_properties import SECRET_PROPERTIES

_CFN_DOCS = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide"
_DYNAMIC_REFS = f"{_CFN_DOCS}/dynamic-references-secretsmanager.html"
_BEST_PRACTICE = f"{_CFN_DOCS}/security-best-practices.html#creds"
_ARN = re.compile(r"^arn:[^:]+:[^:]+:", re.IGNORECASE)

Path = tuple[str, ...]


def _values(node: Any, path: Path, done: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, value, the mapping holding it) for `path` in `node`; `*` is any item."""
    if not path or not isinstance(node, dict | list):
        return
    key, rest = path[0], path[1:]
    if key == "*":
        for index, item in enumerate(as_list(node)):
            yield from _values(item, rest, (*done, index))
        return
    if not isinstance(node, dict) or key not in node:
        return
    if not rest:
        yield ".".join(str(p) for p in (*done, key)), node[key], node
    else:
        yield from _values(node[key], rest, (*done, key))


def _ref_targets(value: Any) -> list[str]:
    """The parameters `value` is (directly, or through a branch of `Fn::If`)."""
    if not is_intrinsic(value):
        return []
    ((key, arg),) = value.items()
    if key == "Ref" and isinstance(arg, str):
        return [arg]
    if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        return _ref_targets(arg[1]) + _ref_targets(arg[2])
    return []


def parameter_default_line(tpl: Template, name: str) -> int | None:
    """The line of a parameter's non-empty Default, or None when it has none."""
    param = tpl.parameters.get(name)
    if not isinstance(param, dict) or str(param.get("Type", "")).startswith("AWS::SSM::"):
        return None
    default = param.get("Default")
    if default is None or not written(default) or _ARN.match(str(default).strip()):
        return None
    return param.lines.get("Default") if isinstance(param, LineDict) else None


def _hit(tpl: Template, res: Resource, where: str, value: Any, holder: Any) -> Hit | None:
    if written(value):
        if isinstance(value, str) and _ARN.match(value.strip()):
            return None  # the ARN of a secret kept elsewhere
        return Hit(
            f"{where} holds a value written in the template",
            item_line(holder, where.rsplit(".", 1)[-1]) or res.properties_line,
            res.logical_id,
        )
    for name in _ref_targets(value):
        line = parameter_default_line(tpl, name)
        if line is not None:
            return Hit(
                f"{where} comes from parameter {name}, whose Default writes the value in the "
                "template",
                line,
                res.logical_id,
            )
    return None


def plaintext_hits(
    tpl: Template, types: Iterable[str], under: str | None = None, but: str | None = None
) -> Iterator[Hit]:
    """Secret-bearing properties of resources of `types` holding a value from the template;
    only those whose path goes through `under` / does not go through `but`, when given."""
    wanted = tuple(t for t in types if t in SECRET_PROPERTIES)
    if not wanted:
        return
    for res in tpl.of_type(*wanted):
        for path in SECRET_PROPERTIES[res.type]:
            if (under and under not in path) or (but and but in path):
                continue
            for where, value, holder in _values(res.properties, path):
                hit = _hit(tpl, res, where, value, holder)
                if hit:
                    yield hit


_OWN_RULES: set[str] = set()


def _claim(*types: str) -> tuple[str, ...]:
    """Types with a dedicated rule; CF-CRED-001 leaves them out."""
    _OWN_RULES.update(types)
    return types


def _remedy(resource: str, prop: str, secret: str, extra: str = "") -> str:
    return (
        "Resolve the value from Secrets Manager at deploy time (or let the service manage "
        f"it{extra}):\n```yaml\n{resource}:\n  Properties:\n"
        f"    {prop}: '{{{{resolve:secretsmanager:{secret}}}}}'\n```\n"
        "A NoEcho parameter without Default also keeps it out of the template."
    )


_DIRECTORY = _claim("AWS::DirectoryService::MicrosoftAD", "AWS::DirectoryService::SimpleAD")
_DMS = _claim("AWS::DMS::Endpoint")
_DOCDB = _claim("AWS::DocDB::DBCluster", "AWS::DocDBElastic::Cluster")
_MQ = _claim("AWS::AmazonMQ::Broker")
_AMPLIFY = _claim("AWS::Amplify::App", "AWS::Amplify::Branch")
_REDSHIFT = _claim("AWS::Redshift::Cluster", "AWS::RedshiftServerless::Namespace")
_SEARCH = _claim("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain")
_RDS = _claim("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
_CACHE = _claim("AWS::ElastiCache::ReplicationGroup")
_ALEXA = _claim("Alexa::ASK::Skill")


@rule(
    id="CF-DS-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Directory Service admin password in the template",
    severity="high",
    resource_types=_DIRECTORY,
    description=(
        "The Password of an AWS Managed Microsoft AD or Simple AD directory is the password "
        "of its Admin account: whoever reads it can join machines, create users and reset "
        "passwords across the domain. Written in the template (or in a parameter's Default) "
        "it is kept in the repository, its history and CloudFormation's copy of the template."
    ),
    remediation=_remedy("CorporateDirectory", "Password", "directory/admin:SecretString:password"),
    references=(
        "https://docs.aws.amazon.com/directoryservice/latest/admin-guide/ms_ad_getting_started.html",
        _DYNAMIC_REFS,
    ),
)
def directory_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _DIRECTORY)


@rule(
    id="CF-DMS-002",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="DMS endpoint database password in the template",
    severity="high",
    resource_types=_DMS,
    description=(
        "A DMS endpoint's Password, or the password in its engine settings (MongoDbSettings, "
        "MicrosoftSqlServerSettings, OracleSettings, RedisSettings, KafkaSettings...), opens "
        "the source or target database of a migration, usually with broad rights. Written in "
        "the template it is readable by anyone with the repository or the stack's template."
    ),
    remediation=(
        "Give the endpoint a Secrets Manager secret and a role to read it:\n"
        "```yaml\nSourceEndpoint:\n  Type: AWS::DMS::Endpoint\n  Properties:\n"
        "    EngineName: mongodb\n    MongoDbSettings:\n"
        "      SecretsManagerSecretId: !Ref SourceSecret\n"
        "      SecretsManagerAccessRoleArn: !GetAtt DmsSecretsRole.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/dms/latest/userguide/security_iam_secretsmanager.html",
        _BEST_PRACTICE,
    ),
)
def dms_endpoint_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _DMS)


@rule(
    id="CF-DOCDB-003",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="DocumentDB master password in the template",
    severity="high",
    resource_types=_DOCDB,
    description=(
        "MasterUserPassword (AdminUserPassword for elastic clusters) is the password of the "
        "cluster's administrative user. Written in the template or a parameter's Default, it "
        "is exposed to everyone who can read the repository or the stack's template, and "
        "rotating it means editing the template."
    ),
    remediation=(
        "Let Secrets Manager manage it:\n```yaml\nDocumentsCluster:\n"
        "  Type: AWS::DocDB::DBCluster\n  Properties:\n    MasterUsername: admin\n"
        "    ManageMasterUserPassword: true\n```\n"
        "or use `'{{resolve:secretsmanager:docdb/admin:SecretString:password}}'`."
    ),
    references=(
        "https://docs.aws.amazon.com/documentdb/latest/developerguide/docdb-secrets-manager.html",
        _DYNAMIC_REFS,
    ),
)
def docdb_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _DOCDB)


@rule(
    id="CF-MQ-004",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Amazon MQ user password in the template",
    severity="high",
    resource_types=_MQ,
    description=(
        "The Users of an Amazon MQ broker (and the LDAP service account) authenticate "
        "producers, consumers and the web console. A password written in the template or in "
        "a parameter's Default lets anyone with the repository connect to the broker, read "
        "and inject messages."
    ),
    remediation=_remedy("OrdersBroker", "Users[].Password", "mq/app:SecretString:password"),
    references=(
        "https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/security-authentication-authorization.html",
        _DYNAMIC_REFS,
    ),
)
def mq_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _MQ)


@rule(
    id="CF-AMPLIFY-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Amplify app repository token in the template",
    severity="high",
    resource_types=_AMPLIFY,
    description=(
        "An Amplify app's AccessToken (GitHub) or OauthToken (other providers) lets Amplify, "
        "and anyone who reads it, read and often write the connected repository. Written in "
        "the template or a parameter's Default, it leaks with every copy of the template."
    ),
    remediation=_remedy("WebApp", "AccessToken", "amplify/github:SecretString:token"),
    references=(
        "https://docs.aws.amazon.com/amplify/latest/userguide/setting-up-GitHub-access.html",
        _DYNAMIC_REFS,
    ),
)
def amplify_token(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _AMPLIFY, but="BasicAuthConfig")


@rule(
    id="CF-AMPLIFY-002",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Amplify basic authentication password in the template",
    severity="high",
    resource_types=_AMPLIFY,
    description=(
        "BasicAuthConfig.Password protects preview and branch deployments of an Amplify app "
        "(often unreleased features or staging data). Written in the template or in a "
        "parameter's Default, it is known to everyone with the repository, which defeats "
        "the protection."
    ),
    remediation=_remedy(
        "WebApp", "BasicAuthConfig.Password", "amplify/preview:SecretString:password"
    ),
    references=(
        "https://docs.aws.amazon.com/amplify/latest/userguide/access-control.html",
        _DYNAMIC_REFS,
    ),
)
def amplify_basic_auth(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _AMPLIFY, under="BasicAuthConfig")


@rule(
    id="CF-RS-006",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Redshift admin password in the template",
    severity="high",
    resource_types=_REDSHIFT,
    description=(
        "MasterUserPassword of a Redshift cluster (AdminUserPassword of a serverless "
        "namespace) is the superuser's password: it reads and changes every table. Written "
        "in the template or a parameter's Default it is exposed with the template."
    ),
    remediation=(
        "Let Redshift keep it in Secrets Manager:\n```yaml\nWarehouse:\n"
        "  Type: AWS::Redshift::Cluster\n  Properties:\n    MasterUsername: admin\n"
        "    ManageMasterPassword: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/redshift/latest/mgmt/redshift-secrets-manager-integration.html",
        _DYNAMIC_REFS,
    ),
)
def redshift_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _REDSHIFT)


@rule(
    id="CF-ES-007",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="OpenSearch master user password in the template",
    severity="high",
    resource_types=_SEARCH,
    description=(
        "AdvancedSecurityOptions.MasterUserOptions.MasterUserPassword is the password of "
        "the domain's fine-grained access control administrator, who can read every index "
        "and change every permission. Written in the template or a parameter's Default, it "
        "is exposed with the template."
    ),
    remediation=(
        "Use an IAM master user (`MasterUserARN`), or resolve the password from Secrets "
        "Manager:\n```yaml\nMasterUserOptions:\n  MasterUserName: admin\n"
        "  MasterUserPassword: '{{resolve:secretsmanager:search/admin:SecretString:password}}'"
        "\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/fgac.html",
        _DYNAMIC_REFS,
    ),
)
def search_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _SEARCH)


@rule(
    id="CF-RDS-011",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="RDS master password in the template",
    severity="high",
    resource_types=_RDS,
    description=(
        "MasterUserPassword of an RDS instance or Aurora cluster is the password of the "
        "database's administrative user (TdeCredentialPassword unlocks an Oracle or SQL "
        "Server TDE key store). Written in the template or a parameter's Default, it is "
        "exposed with the template and cannot be rotated without editing it."
    ),
    remediation=(
        "Let RDS manage it in Secrets Manager:\n```yaml\nDatabase:\n"
        "  Type: AWS::RDS::DBInstance\n  Properties:\n    MasterUsername: app_admin\n"
        "    ManageMasterUserPassword: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html",
        _DYNAMIC_REFS,
    ),
)
def rds_password(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _RDS)


@rule(
    id="CF-ELC-003",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="ElastiCache AUTH token in the template",
    severity="high",
    resource_types=_CACHE,
    description=(
        "The AuthToken of a Redis OSS or Valkey replication group is the password every "
        "client presents; with it, anyone who reaches the cache can read and change all "
        "keys. Written in the template or a parameter's Default, it is exposed with the "
        "template."
    ),
    remediation=_remedy("SessionCache", "AuthToken", "cache/auth:SecretString:token"),
    references=(
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html",
        _DYNAMIC_REFS,
    ),
)
def cache_auth_token(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _CACHE)


@rule(
    id="CF-ALEXA-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Alexa skill client secret or refresh token in the template",
    severity="high",
    resource_types=_ALEXA,
    description=(
        "The AuthenticationConfiguration of an Alexa::ASK::Skill holds the Login with Amazon "
        "client secret and refresh token used to manage the skill: with them, anyone can "
        "update or replace the skill. Written in the template they leak with it."
    ),
    remediation=_remedy(
        "VoiceSkill", "AuthenticationConfiguration.ClientSecret", "alexa/lwa:SecretString:secret"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ask-skill-authenticationconfiguration.html",
        _DYNAMIC_REFS,
    ),
)
def alexa_secret(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, _ALEXA)


@rule(
    id="CF-CRED-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Credential written in a resource property",
    severity="high",
    description=(
        "A property that the CloudFormation resource schema defines as a credential "
        "(password, secret, token, private or API key: FSx admin passwords, DataSync and "
        "Glue connection credentials, EventBridge connection keys, Pinpoint channel keys, "
        "IAM server certificate keys and user console passwords, Direct Connect BGP keys...) "
        "holds a value written in "
        "the template or in a parameter's Default. It is then stored in the repository, its "
        "history and CloudFormation's copy of the template. Services with a rule of their "
        "own (RDS, Redshift, DocumentDB, Directory Service, DMS, MQ, Amplify, OpenSearch, "
        "ElastiCache, Alexa) are not repeated here."
    ),
    remediation=(
        "Resolve the value at deploy time with a dynamic reference "
        "(`'{{resolve:secretsmanager:name:SecretString:key}}'`), or pass it as a NoEcho "
        "parameter without Default."
    ),
    references=(_DYNAMIC_REFS, _BEST_PRACTICE),
)
def credential_in_property(tpl: Template) -> Iterator[Hit]:
    return plaintext_hits(tpl, (t for t in tpl.types() if t not in _OWN_RULES))


# -- parameters --------------------------------------------------------------------------------


def _secret_parameters(tpl: Template) -> dict[str, str]:
    """Parameters that carry a credential, with why: used by a secret property, or so named
    (computed once per template for CF-PARAM-001 and CF-PARAM-002)."""
    if not tpl.parameters:
        return {}
    return tpl.shared("secret_parameters", _find_secret_parameters)


def _find_secret_parameters(tpl: Template) -> dict[str, str]:
    found: dict[str, str] = {}
    types = tuple(t for t in tpl.types() if t in SECRET_PROPERTIES)
    for res in tpl.of_type(*types) if types else ():
        for path in SECRET_PROPERTIES[res.type]:
            for where, value, _ in _values(res.properties, path):
                for name in _ref_targets(value):
                    if name in tpl.parameters:
                        found.setdefault(name, f"it sets {res.logical_id}.{where}")
    for name, param in tpl.parameters.items():
        if (
            name not in found
            and isinstance(param, dict)
            and is_secret_name(name)
            and not str(param.get("Type", "")).startswith("AWS::SSM::")
        ):
            found[name] = "its name says it holds a credential"
    return found


def _parameter_line(tpl: Template, name: str) -> int | None:
    section = tpl.raw.get("Parameters")
    return section.lines.get(name) if isinstance(section, LineDict) else None


@rule(
    id="CF-PARAM-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Credential parameter with a default value",
    severity="high",
    description=(
        "A parameter whose name says it holds a password, secret, token or key has a "
        "Default: the credential is then written in the template, and used whenever the "
        "deployer does not override it. Parameters that feed a secret-bearing resource "
        "property are reported by that resource's rule instead."
    ),
    remediation=(
        "Remove the Default and mark the parameter NoEcho, or resolve the value from "
        "Secrets Manager:\n```yaml\nParameters:\n  DatabasePassword:\n    Type: String\n"
        "    NoEcho: true\n    MinLength: 16\n```"
    ),
    references=(_BEST_PRACTICE, f"{_CFN_DOCS}/parameters-section-structure.html"),
)
def parameter_default(tpl: Template) -> Iterator[Hit]:
    for name, why in _secret_parameters(tpl).items():
        if why.startswith("its name"):
            line = parameter_default_line(tpl, name)
            if line is not None:
                yield Hit(f"parameter {name} has a Default, and {why}", line, name)


@rule(
    id="CF-PARAM-002",
    artifact_type="cloudformation",
    title="Credential parameter without NoEcho",
    severity="medium",
    description=(
        "Without NoEcho: true, CloudFormation shows a parameter's value in the console, in "
        "DescribeStacks output and in stack events, to anyone allowed to read the stack. "
        "Parameters that set a secret-bearing resource property, or whose name says they "
        "hold a credential, should be NoEcho."
    ),
    remediation=(
        "```yaml\nParameters:\n  DatabasePassword:\n    Type: String\n    NoEcho: true\n```\n"
        "Better still, resolve the value from Secrets Manager with a dynamic reference."
    ),
    references=(
        f"{_CFN_DOCS}/parameters-section-structure.html#parameters-section-structure-properties",
        _BEST_PRACTICE,
    ),
)
def parameter_without_noecho(tpl: Template) -> Iterator[Hit]:
    for name, why in _secret_parameters(tpl).items():
        param = tpl.parameters[name]
        if truthy(param.get("NoEcho")) is not True:
            yield Hit(
                f"parameter {name} is not NoEcho, and {why}",
                _parameter_line(tpl, name),
                name,
            )


# -- cfn-init authentication -------------------------------------------------------------------

_AUTH_KEYS = ("accessKeyId", "secretKey", "password")


@rule(
    id="CF-CFN-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Credentials in cfn-init authentication metadata",
    severity="high",
    description=(
        "An AWS::CloudFormation::Authentication block with accessKeyId / secretKey (S3) or a "
        "password (basic) stores them, resolved, in the resource's metadata: anyone allowed "
        "cloudformation:DescribeStackResource, and every process on the instance through "
        "cfn-get-metadata, reads them in clear, whether they are written in the template or "
        "come from a parameter or an access key resource. An S3 source can use the "
        "instance's role instead (roleName)."
    ),
    remediation=(
        "```yaml\nMetadata:\n  AWS::CloudFormation::Authentication:\n    S3AccessCreds:\n"
        "      type: S3\n      roleName: !Ref WebServerRole\n      buckets: [!Ref ConfigBucket]\n"
        "```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-authentication.html",
        _BEST_PRACTICE,
    ),
)
def cfn_init_credentials(tpl: Template) -> Iterator[Hit]:
    for res in tpl.resources.values():
        blocks = res.metadata.get("AWS::CloudFormation::Authentication") if res.metadata else None
        if not isinstance(blocks, dict):
            continue
        for name, block in blocks.items():
            if not isinstance(block, dict):
                continue
            for key in _AUTH_KEYS:
                if key in block and block[key] not in (None, ""):
                    yield Hit(
                        f"authentication {name} holds a {key}; use the instance role instead",
                        item_line(block, key) or res.line,
                        res.logical_id,
                    )
