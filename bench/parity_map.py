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

`why_theirs` / `why_ours` are the written reasons for findings only they / only we report. A
reason is a `Reason`: its text starts with its kind (*their false positive*, *their false
negative*, *by design*, *different semantics*, *our planned gap*, *our false positive*, ...).
When the text is a claim about the finding itself ("the RUN runs `apt-get dist-clean`"), the
reason carries a predicate, `holds(place)`, that checks the claim against the file; the first
reason that holds is the finding's reason, and a finding no reason holds for is reported as
*not reviewed*. A reason without a predicate is a claim about the tool or the rule as a whole
(checkov's runtime list, a hadolint default) and applies to every finding of the concept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

Artifact = Literal["cloudformation", "dockerfile"]
Granularity = Literal["resource", "line", "file"]


# -- the place of a finding, and what predicates read from it ------------------------------------


@lru_cache(maxsize=4096)
def _read_lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(errors="replace").splitlines())
    except OSError:
        return ()


@lru_cache(maxsize=2048)
def _template(path: Path) -> Any:
    from chalicelib.parsers.cloudformation import parse

    try:
        return parse("\n".join(_read_lines(path)))
    except Exception:  # a bench heuristic must not stop the report
        return None


@dataclass(frozen=True)
class Place:
    """Where one finding is: a template resource or a Dockerfile line (None: the whole file)."""

    artifact: Artifact
    path: Path
    where: str | int | None

    @property
    def lines(self) -> tuple[str, ...]:
        return _read_lines(self.path)

    # CloudFormation

    @property
    def template(self) -> Any:
        return _template(self.path) if self.artifact == "cloudformation" else None

    @property
    def resource(self) -> Any:
        tpl = self.template
        return tpl.resources.get(self.where) if tpl is not None and self.where else None

    def prop(self, *path: Any) -> Any:
        res = self.resource
        return None if res is None else res.prop(*path)

    # Dockerfile

    @property
    def instruction(self) -> str:
        """The instruction at the line, continuation lines joined (comments inside dropped,
        a heredoc body included)."""
        if not isinstance(self.where, int):
            return ""
        return _instruction(self.lines, self.where)

    @property
    def script(self) -> str:
        """The instruction without its keyword and flags (`RUN --mount=... ` removed)."""
        text = self.instruction
        return re.sub(r"^\s*\w+\s+(?:--\S+\s+)*", "", text, count=1)

    def froms(self) -> list[int]:
        """1-based lines of the FROM instructions."""
        return [i + 1 for i, t in enumerate(self.lines) if re.match(r"\s*FROM\s", t, re.I)]


def _instruction(lines: tuple[str, ...], line: int) -> str:
    out: list[str] = []
    index = line - 1
    while index < len(lines):
        text = lines[index]
        if out and text.lstrip().startswith("#"):
            index += 1
            continue
        out.append(text.rstrip())
        if not text.rstrip().endswith("\\"):
            break
        index += 1
    heredoc = re.search(r"<<-?\s*['\"]?(\w+)", out[0]) if out else None
    if heredoc:
        end = heredoc.group(1)
        index += 1
        while index < len(lines) and lines[index].strip() != end:
            out.append(lines[index])
            index += 1
    return "\n".join(t.removesuffix("\\") for t in out)


@dataclass(frozen=True)
class Reason:
    """A written reason; `holds` checks its claim on one finding (None: a claim about the tool
    or the rule, true of every finding of the concept)."""

    text: str
    holds: Callable[[Place], bool] | None = None

    def applies(self, place: Place) -> bool:
        if self.holds is None:
            return True
        try:
            return bool(self.holds(place))
        except Exception:  # a failing predicate proves nothing: not reviewed
            return False


Reasons = tuple[Reason, ...]


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
    why_theirs: Reasons = field(default=())  # reasons for findings only they report
    why_ours: Reasons = field(default=())  # reasons for findings only we report


def R(text: str, holds: Callable[[Place], bool] | None = None) -> Reason:  # noqa: N802
    return Reason(text, holds)


# -- predicates: CloudFormation ------------------------------------------------------------------


def _if_branches(value: Any) -> list[Any] | None:
    """The two branches of an `Fn::If` (None when `value` is not one)."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        arg = value["Fn::If"]
        if isinstance(arg, list) and len(arg) == 3:
            return arg[1:]
    return None


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"


def _if_with_no_value(value: Any) -> bool:
    branches = _if_branches(value)
    return branches is not None and any(_is_no_value(b) for b in branches)


def _sse_if_encrypted(place: Place) -> bool:
    rules = place.prop("BucketEncryption", "ServerSideEncryptionConfiguration") or []
    algorithms = [
        r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        for r in rules
        if isinstance(r, dict)
    ]
    known = {"AES256", "aws:kms", "aws:kms:dsse"}
    return bool(algorithms) and all(
        (branches := _if_branches(a)) is not None and all(b in known for b in branches)
        for a in algorithms
    )


def _no_bucket_encryption(place: Place) -> bool:
    res = place.resource
    return res is not None and "BucketEncryption" not in res.properties


def _refs(value: Any, logical_id: str) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        return any(_refs(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_refs(v, logical_id) for v in value)
    return False


def _log_destination(place: Place) -> bool:
    """The bucket receives access logs: LogDeliveryWrite, or another bucket logs into it."""
    if place.prop("AccessControl") == "LogDeliveryWrite":
        return True
    tpl = place.template
    return tpl is not None and any(
        res.type == "AWS::S3::Bucket"
        and _refs(res.prop("LoggingConfiguration", "DestinationBucketName"), str(place.where))
        for res in tpl.resources.values()
    )


def _logging_if_no_value(place: Place) -> bool:
    return _if_with_no_value(place.prop("LoggingConfiguration"))


def _ingress_rules(place: Place) -> Iterator[dict]:
    res = place.resource
    if res is None:
        return
    if res.type == "AWS::EC2::SecurityGroupIngress":
        yield res.properties
    for item in res.prop("SecurityGroupIngress") or []:
        if isinstance(item, dict):
            yield item


def _all_traffic_from_world(place: Place) -> bool:
    return any(
        str(rule.get("IpProtocol")) == "-1"
        and (rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0")
        for rule in _ingress_rules(place)
    )


def _ipv6_world_in_full(place: Place) -> bool:
    return any(
        isinstance(rule.get("CidrIpv6"), str) and rule["CidrIpv6"].startswith("0000:")
        for rule in _ingress_rules(place)
    )


def _rds_inherits_encryption(place: Place) -> bool:
    res = place.resource
    if res is None:
        return False
    if res.type == "AWS::RDS::DBInstance":
        return "SourceDBInstanceIdentifier" in res.properties or (
            "DBClusterIdentifier" in res.properties
        )
    return res.prop("EngineMode") == "serverless"


def _aurora_serverless_v1(place: Place) -> bool:
    return place.prop("EngineMode") == "serverless"


def _cluster_member(place: Place) -> bool:
    res = place.resource
    engine = res.prop("Engine") if res is not None else None
    return res is not None and (
        "DBClusterIdentifier" in res.properties
        or (isinstance(engine, str) and engine.lower().startswith("aurora"))
    )


def _principal_from_parameter(place: Place) -> bool:
    tpl = place.template
    statements = (place.prop("KeyPolicy") or {}).get("Statement") or []
    for statement in statements if isinstance(statements, list) else []:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        if tpl is not None and _refs_parameter(tpl, principal):
            return True
    return False


def _refs_parameter(tpl: Any, value: Any) -> bool:
    if isinstance(value, dict):
        ref = value.get("Ref")
        if isinstance(ref, str) and ref in tpl.parameters:
            return True
        return any(_refs_parameter(tpl, v) for v in value.values())
    if isinstance(value, list):
        return any(_refs_parameter(tpl, v) for v in value)
    return False


def _deprecated_runtime(place: Place) -> bool:
    from datetime import date

    from rules.cloudformation.lambda_ import DEPRECATED_RUNTIMES

    runtime = place.prop("Runtime")
    tpl = place.template
    values = tpl.possible_values(runtime) if tpl is not None else [runtime]
    today = date.today().isoformat()
    return any(
        isinstance(v, str) and DEPRECATED_RUNTIMES.get(v.strip().lower(), "9999") <= today
        for v in values
    )


def _options_method(place: Place) -> bool:
    tpl = place.template
    verbs = tpl.possible_values(place.prop("HttpMethod")) if tpl is not None else []
    return bool(verbs) and all(isinstance(v, str) and v.strip().upper() == "OPTIONS" for v in verbs)


def _auth_not_literal_none(place: Place) -> bool:
    return place.prop("AuthorizationType") != "NONE"


def _behaviors(place: Place) -> list[dict]:
    config = place.prop("DistributionConfig") or {}
    found = [config.get("DefaultCacheBehavior")] + list(config.get("CacheBehaviors") or [])
    return [b for b in found if isinstance(b, dict)]


def _viewer_policy_if_allow_all(place: Place) -> bool:
    return any(
        (branches := _if_branches(b.get("ViewerProtocolPolicy"))) is not None
        and "allow-all" in branches
        for b in _behaviors(place)
    )


def _origin_http_only(place: Place) -> bool:
    origins = (place.prop("DistributionConfig") or {}).get("Origins") or []
    return any(
        isinstance(o, dict)
        and (o.get("CustomOriginConfig") or {}).get("OriginProtocolPolicy") == "http-only"
        for o in origins
    )


def _nlb_without_tls_listener(place: Place) -> bool:
    tpl = place.template
    if tpl is None or "network" not in tpl.possible_values(place.prop("Type")):
        return False
    return not any(
        res.type == "AWS::ElasticLoadBalancingV2::Listener"
        and _refs(res.prop("LoadBalancerArn"), str(place.where))
        and "TLS" in [str(v).upper() for v in tpl.possible_values(res.prop("Protocol"))]
        for res in tpl.resources.values()
    )


def _public_statements_deny(place: Place) -> bool:
    statements = (place.prop("RepositoryPolicyText") or {}).get("Statement") or []
    public = [
        s
        for s in statements
        if isinstance(s, dict) and s.get("Principal") in ("*", {"AWS": "*"}, {"AWS": ["*"]})
    ]
    return bool(public) and all(s.get("Effect") == "Deny" for s in public)


def _sqs_default_sse(place: Place) -> bool:
    res = place.resource
    return (
        res is not None
        and "KmsMasterKeyId" not in res.properties
        and str(res.prop("SqsManagedSseEnabled")).lower() != "false"
    )


def _kms_key_if_no_value(place: Place) -> bool:
    return _if_with_no_value(place.prop("KmsKeyId"))


def _aws_managed_secret_key(place: Place) -> bool:
    tpl = place.template
    value = place.prop("KmsKeyId")
    values = tpl.possible_values(value) if tpl is not None else [value]
    return any(
        _is_no_value_marker(v) or (isinstance(v, str) and v.endswith("alias/aws/secretsmanager"))
        for v in values
    )


def _is_no_value_marker(value: Any) -> bool:
    from chalicelib.parsers.cloudformation import NO_VALUE

    return value is NO_VALUE


def _world_ipv6_not_literal(place: Place) -> bool:
    """An IPv6 world range written otherwise than `::/0` (e.g. `0000::/0`)."""
    import ipaddress

    for rule in _ingress_rules(place):
        cidr = rule.get("CidrIpv6")
        if isinstance(cidr, str) and cidr != "::/0":
            try:
                if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
                    return True
            except ValueError:
                continue
    return False


def _no_http_method(place: Place) -> bool:
    res = place.resource
    return res is not None and "HttpMethod" not in res.properties


def _default_certificate_named_policy(place: Place) -> bool:
    """ViewerCertificate names no certificate of its own, whatever MinimumProtocolVersion."""
    cert = (place.prop("DistributionConfig") or {}).get("ViewerCertificate")
    return isinstance(cert, dict) and not any(
        k in cert for k in ("AcmCertificateArn", "IamCertificateId")
    )


# -- predicates: Dockerfile ----------------------------------------------------------------------

_SHELL_C = re.compile(r"\b(?:bash|sh)\s+(?:-\w+\s+)*-\w*c\b")
_CHECKSUM = re.compile(r"^(?:sha1|sha224|sha256|sha384|sha512|md5|sha)sum$")
_SEPARATORS = re.compile(r"\$\(|&&|\|\||[;(`{]|\n|\bthen\b|\bdo\b|\belse\b")
_SAFE_PRODUCERS = frozenset({"echo", "printf", "yes", "true"})


def _in_shell_c(place: Place) -> bool:
    return bool(_SHELL_C.search(place.script))


def _pipes(script: str) -> list[tuple[str, list[str], bool]]:
    """(producer command, consumer words, inside a `$(…)` substitution) of every `|` pipe of a
    shell script, roughly: single-quoted text is skipped, `||` is not a pipe, `case` patterns
    (`amd64 | arm64)`) are not pipes, and a `{ …; }` group producer is `{` when every command
    of the group is a safe producer, `}` otherwise."""
    text = re.sub(r"'[^'\n]*'", "''", script)
    out = []
    for match in re.finditer(r"(?<!\|)\|(?![|])", text):
        before, after_text = text[: match.start()], text[match.end() :]
        after = re.split(r"&&|\|\||[;\n|]", after_text, maxsplit=1)[0]
        consumer = after.split()
        if consumer and consumer[0].endswith(")") and "(" not in consumer[0]:
            continue  # a case pattern
        starts = [m.end() for m in _SEPARATORS.finditer(before)]
        segment = before[starts[-1] :] if starts else before
        words = [w.strip('"') for w in segment.split() if not re.match(r"^\w+=", w)]
        producer = words[0] if words else ""
        if producer == "}":
            group = before[before.rfind("{") + 1 : before.rfind("}")]
            names = [c.split()[0] for c in re.split(r"[;\n]|&&", group) if c.strip()]
            producer = "{" if names and all(n in _SAFE_PRODUCERS for n in names) else "}"
        opened = before.rfind("$(")
        inside = opened >= 0 and ")" not in before[opened:]
        out.append((producer, consumer, inside))
    return out


def _fails_on_empty(consumer: list[str]) -> bool:
    """A consumer that fails when its input is empty: a checksum check, or grep (not -v)."""
    if not consumer:
        return False
    name, args = consumer[0], consumer[1:]
    if _CHECKSUM.match(name):
        return any(a in ("-c", "--check") or bool(re.match(r"^-[a-z]*c", a)) for a in args)
    return name == "grep" and not any(re.match(r"^-[a-zA-Z]*v", a) for a in args)


def _safe_pipe(producer: str, consumer: list[str]) -> bool:
    return producer in _SAFE_PRODUCERS or producer == "{" or _fails_on_empty(consumer)


def _pipes_cannot_hide_failure(place: Place) -> bool:
    pipes = _pipes(place.script)
    return bool(pipes) and all(_safe_pipe(p, c) for p, c, _ in pipes)


def _unsafe_pipes_in_substitution(place: Place) -> bool:
    unsafe = [inside for p, c, inside in _pipes(place.script) if not _safe_pipe(p, c)]
    return bool(unsafe) and all(unsafe)


def _case_pattern(place: Place) -> bool:
    return bool(re.search(r"\bcase\b.*\bin\b", place.script, re.S))


def _runs_dist_clean(place: Place) -> bool:
    return "apt-get dist-clean" in place.script


def _apt_simulate(place: Place) -> bool:
    return bool(
        re.search(r"apt-get\s+install\s+(?:\S+\s+)*(?:-s|--simulate|--dry-run)\b", place.script)
    )


def _install_args_variable(place: Place, manager: str) -> bool:
    pattern = rf"\b{manager}\b[^;&|]*\$"
    return bool(re.search(pattern, place.script))


def _apt_install_variable(place: Place) -> bool:
    return _install_args_variable(place, r"apt-get\s+(?:-\S+\s+)*install")


def _apk_add_variable(place: Place) -> bool:
    return _install_args_variable(place, r"apk\s+(?:-\S+\s+)*add")


def _yum_install_variable(place: Place) -> bool:
    return _install_args_variable(place, r"(?:yum|dnf|microdnf)\s+(?:-\S+\s+)*install")


def _apt_not_apt_get(place: Place) -> bool:
    return bool(re.search(r"\bapt\s+(?:-\S+\s+)*install\b", place.script))


def _shell_c_or_apt(place: Place) -> bool:
    return _in_shell_c(place) or _apt_not_apt_get(place)


def _apt_update_only(place: Place) -> bool:
    script = place.script
    return bool(re.search(r"\bapt\s+update\b", script)) and not _apt_not_apt_get(place)


def _several_froms(place: Place) -> bool:
    return len(place.froms()) > 1


def _alias_named_like_image(place: Place) -> bool:
    return bool(re.match(r"\s*FROM\s+(\S+?)(?::\S+)?\s+AS\s+\1\s*$", place.instruction, re.I))


def _stage_of(place: Place, line: int) -> tuple[int, str]:
    """(line of the FROM that starts the stage holding `line`, the image/stage it builds on)."""
    start = max((f for f in place.froms() if f <= line), default=0)
    text = place.lines[start - 1] if start else ""
    words = text.split()
    return start, (words[1].lower() if len(words) > 1 else "")


def _absolute_workdir_before(place: Place) -> bool:
    """An absolute WORKDIR earlier in the stage, or in a stage it builds on."""
    line = int(place.where or 0)
    seen: set[int] = set()
    while line and line not in seen:
        seen.add(line)
        start, base = _stage_of(place, line)
        for index in range(start, line - 1):
            match = re.match(r"\s*WORKDIR\s+['\"]?(\S+)", place.lines[index], re.I)
            if match and match.group(1).startswith("/"):
                return True
        aliases = {
            f: m.group(1).lower()
            for f in place.froms()
            if (m := re.search(r"\sAS\s+(\S+)", place.lines[f - 1], re.I))
        }
        parent = next((f for f, alias in aliases.items() if alias == base and f < start), None)
        line = _last_line_of_stage(place, parent) if parent else 0
    return False


def _last_line_of_stage(place: Place, start: int) -> int:
    later = [f for f in place.froms() if f > start]
    return (later[0] - 1) if later else len(place.lines)


def _sudo_installed_not_run(place: Place) -> bool:
    script = place.script
    installs = re.search(
        r"\b(?:apt-get|apt|apk|yum|dnf)\s+(?:install|add)\b[^;&|\n]*\bsudo\b", script
    )
    runs = re.search(r"(?:^|[;&|(`]|\bthen|\bdo)\s*sudo\s", script, re.M)
    return bool(installs) and not runs


def _cd_not_first(place: Place) -> bool:
    commands = [c.strip() for c in re.split(r"&&|;|\n", place.script) if c.strip()]
    commands = [c for c in commands if not re.match(r"set\b", c)]
    return bool(commands) and not commands[0].startswith("cd ")


def _not_final_stage(place: Place) -> bool:
    froms = place.froms()
    return isinstance(place.where, int) and any(f > place.where for f in froms)


def _pip_range(place: Place) -> bool:
    return bool(re.search(r"pip3?\s+install\b[^;&|]*[A-Za-z0-9_.-]+(?:<|>|~=|!=)", place.script))


def _trusted_source(place: Place) -> bool:
    return bool(re.search(r"trusted=yes|allow-insecure=yes", place.script))


def _unset(*path: str) -> Callable[[Place], bool]:
    def holds(place: Place) -> bool:
        return place.resource is not None and place.prop(*path) is None

    return holds


def _without_fine_grained_access(place: Place) -> bool:
    return place.prop("AdvancedSecurityOptions", "Enabled") not in (True, "true", "True")


def _stream_encryption_without_key(place: Place) -> bool:
    encryption = place.prop("StreamEncryption")
    return isinstance(encryption, dict) and not encryption.get("KeyId")


def _load_balancer_group(place: Place) -> bool:
    """The security group (or the group an ingress resource belongs to) is a load balancer's."""
    tpl, res = place.template, place.resource
    if tpl is None or res is None:
        return False
    group = str(place.where)
    if res.type == "AWS::EC2::SecurityGroupIngress":
        target = res.prop("GroupId")
        if isinstance(target, dict) and isinstance(target.get("Ref"), str):
            group = target["Ref"]
        elif isinstance(target, dict) and isinstance(target.get("Fn::GetAtt"), list):
            group = str(target["Fn::GetAtt"][0])
    lb_types = (
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    )
    return any(
        other.type in lb_types
        and (
            _refs(other.prop("SecurityGroups"), group)
            or _getatt(other.prop("SecurityGroups"), group)
        )
        for other in tpl.resources.values()
    )


def _getatt(value: Any, logical_id: str) -> bool:
    if isinstance(value, dict):
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and att[0] == logical_id:
            return True
        if isinstance(att, str) and att.split(".", 1)[0] == logical_id:
            return True
        return any(_getatt(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_getatt(v, logical_id) for v in value)
    return False


_GIT_PIN = re.compile(r"\bgit\s+(?:checkout|reset|switch)\b")


def _go_pinned_by_checkout(place: Place) -> bool:
    """A later `git checkout|reset|switch` in the same stage pins what `go get` fetched."""
    if not isinstance(place.where, int):
        return False
    for text in place.lines[place.where :]:
        if re.match(r"\s*FROM\s", text, re.I):
            return False
        if _GIT_PIN.search(text):
            return True
    return False


def _single_object_rules(place: Place) -> bool:
    """Inline SecurityGroupIngress / SecurityGroupEgress written as one object, not a list."""
    return any(
        isinstance(place.prop(key), dict) for key in ("SecurityGroupIngress", "SecurityGroupEgress")
    )


def _pipeline_artifacts_unencrypted(place: Place) -> bool:
    return place.prop("Artifacts", "Type") == "CODEPIPELINE" and place.prop(
        "Artifacts", "EncryptionDisabled"
    ) in (True, "true", "True")


_FIXED_SOURCE = re.compile(r"--branch\b|refs/tags/|/archive/|releases/download/")


def _builds_fixed_source(place: Place) -> bool:
    """The RUN fetches a tagged release or branch and `go` builds that checkout."""
    return bool(_FIXED_SOURCE.search(place.script))


def _kills_own_process(place: Place) -> bool:
    return "$!" in place.script


def _cfn(
    key: str, title: str, ours: tuple[str, ...], checkov: tuple[str, ...], **kw: Reasons
) -> Concept:
    return Concept(key, title, "cloudformation", ours, checkov=checkov, **kw)  # type: ignore[arg-type]


# Decisions taken on their findings, with where they live; rendered in docs/parity.md.
DECISIONS: tuple[str, ...] = (
    "CloudFront viewer TLS (CKV_AWS_174): a distribution on CloudFront's default "
    "*.cloudfront.net certificate accepts TLS 1.0 whatever MinimumProtocolVersion says (CloudFront"
    " fixes its policy at TLSv1), and only a custom domain with its own certificate can raise it. "
    "CF-CFRONT-002 now reports it, also when ViewerCertificate is absent or chosen by Fn::If: the "
    "rule is about which protocols viewers may use, and AWS Config's "
    "cloudfront-security-policy-check and Security Hub CloudFront.7 take the same view.",
    "Load balancer listener TLS (CKV_AWS_103) also fails plain-HTTP listeners that do not "
    "redirect to HTTPS, which we report as CF-ELB-001; the concept maps both of our rules, as the "
    "SSH/RDP concept does with CF-EC2-001 and CF-EC2-002.",
    "RDS Multi-AZ (CKV_AWS_157): a read replica has a MultiAZ setting of its own, and AWS "
    "Config's rds-multi-az-support evaluates replicas; CF-RDS-006 now reports single-AZ "
    "replicas (it still skips instances of a DB cluster, which have no such setting).",
    "Load balancer access logs (CKV_AWS_91): a network load balancer logs TLS connections only; "
    "CF-ELB-003 now checks network load balancers that have a TLS listener in the template.",
    "SAM: the Lambda, API Gateway and DynamoDB rules see SAM resources through the CloudFormation "
    "resources they expand to (`of_type(..., include_sam=True)`), `Globals` included; checkov "
    "evaluates AWS::Serverless::Function only, so SAM APIs and tables show as *they skip the "
    "resource* where we report them.",
)

_SHELL_C_REASON = R(
    "their false negative: inside `bash -c '…'`, which hadolint does not parse", _in_shell_c
)

CONCEPTS: tuple[Concept, ...] = (
    # -- CloudFormation: checkov ---------------------------------------------------------------
    _cfn(
        "s3-encryption",
        "S3 bucket without default encryption",
        ("CF-S3-001",),
        ("CKV_AWS_19",),
        why_theirs=(
            R(
                "their false positive: SSEAlgorithm is chosen by Fn::If between aws:kms and "
                "AES256, encrypted either way",
                _sse_if_encrypted,
            ),
        ),
        why_ours=(
            R(
                "different semantics: the bucket declares no BucketEncryption; S3 encrypts every "
                "new bucket with SSE-S3 since January 2023 and CKV_AWS_19 accepts that, "
                "CF-S3-001 asks for an explicit configuration by design",
                _no_bucket_encryption,
            ),
        ),
    ),
    _cfn(
        "s3-public-access-block",
        "S3 public access block missing or partial",
        ("CF-S3-002",),
        ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
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
            R(
                "by design: the bucket receives access logs (AccessControl LogDeliveryWrite, or "
                "another bucket's DestinationBucketName); logging a log bucket into itself loops, "
                "so CF-S3-005 skips it",
                _log_destination,
            ),
        ),
        why_ours=(
            R(
                "different semantics: LoggingConfiguration is set through Fn::If with "
                "AWS::NoValue; checkov sees the key and passes, we flag the branch without it",
                _logging_if_no_value,
            ),
        ),
    ),
    _cfn(
        "sg-admin-port-world",
        "SSH/RDP open to 0.0.0.0/0 (ours: CF-EC2-001, or CF-EC2-002 for all ports)",
        ("CF-EC2-001", "CF-EC2-002"),
        ("CKV_AWS_24", "CKV_AWS_25"),
        why_theirs=(
            R(
                "our false negative: an IPv6 world range written in full (`0000:…:0000/0`) is "
                "not recognised; normalise CIDRs with `ipaddress.ip_network(..., strict=False)`",
                _ipv6_world_in_full,
            ),
        ),
        why_ours=(
            R(
                "their false negative: IpProtocol -1 (all traffic) from the whole internet also "
                "opens 22/3389; CKV_AWS_24/25 miss it (we report CF-EC2-002)",
                _all_traffic_from_world,
            ),
            R(
                "their false negative: the IPv6 world range is written `0000::/0`; CKV_AWS_24/25 "
                "compare the text with `::/0`, we compare networks",
                _world_ipv6_not_literal,
            ),
        ),
    ),
    _cfn(
        "sg-http-world",
        "Port 80 open to 0.0.0.0/0",
        ("CF-EC2-015",),
        ("CKV_AWS_260",),
        why_theirs=(
            R(
                "by design: the group belongs to a load balancer, whose port 80 listener may "
                "only redirect to HTTPS; CF-EC2-015 leaves such groups to CF-ELB-001, which "
                "judges the listener",
                _load_balancer_group,
            ),
        ),
    ),
    _cfn(
        "sg-rule-description",
        "Security group rule without description",
        ("CF-EC2-011",),
        ("CKV_AWS_23",),
        why_ours=(
            R(
                "their false negative: the inline rule is written as one object rather than a "
                "list (CloudFormation accepts both); CKV_AWS_23 reads lists only",
                _single_object_rules,
            ),
        ),
    ),
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
            R(
                "their false positive: a read replica (SourceDBInstanceIdentifier) or cluster "
                "member (DBClusterIdentifier) takes its encryption from its source or cluster, "
                "and an Aurora Serverless v1 cluster is always encrypted; CF-RDS-001 judges the "
                "source / cluster instead",
                _rds_inherits_encryption,
            ),
        ),
    ),
    _cfn("rds-public", "RDS instance publicly accessible", ("CF-RDS-002",), ("CKV_AWS_17",)),
    _cfn(
        "rds-iam-auth",
        "RDS IAM database authentication disabled",
        ("CF-RDS-005",),
        ("CKV_AWS_161", "CKV_AWS_162"),
        why_theirs=(
            R(
                "their false positive: Aurora Serverless v1 (EngineMode serverless) does not "
                "support IAM database authentication",
                _aurora_serverless_v1,
            ),
        ),
    ),
    _cfn(
        "rds-multi-az",
        "RDS instance not Multi-AZ",
        ("CF-RDS-006",),
        ("CKV_AWS_157",),
        why_theirs=(
            R(
                "their false positive: an instance of a DB cluster (DBClusterIdentifier, Aurora) "
                "has no Multi-AZ setting of its own, the cluster spreads its instances; "
                "CF-RDS-006 skips it",
                _cluster_member,
            ),
        ),
    ),
    _cfn(
        "rds-enhanced-monitoring", "RDS enhanced monitoring off", ("CF-RDS-014",), ("CKV_AWS_118",)
    ),
    _cfn("kms-rotation", "KMS key rotation disabled", ("CF-KMS-001",), ("CKV_AWS_7",)),
    _cfn(
        "kms-policy-any-principal",
        "KMS key policy allows *",
        ("CF-KMS-002",),
        ("CKV_AWS_33",),
        why_ours=(
            R(
                "different semantics: the principal comes from a parameter that cannot be "
                "resolved; we report unresolvable principals, checkov only a literal *",
                _principal_from_parameter,
            ),
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
            R(
                "their false negative: the runtime is past its AWS deprecation date "
                "(rules/cloudformation/lambda_.py DEPRECATED_RUNTIMES) but missing from checkov "
                "3.3.30's fixed list",
                _deprecated_runtime,
            ),
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
    _cfn(
        "lambda-env-kms",
        "Lambda environment not KMS-encrypted",
        ("CF-LAMBDA-010",),
        ("CKV_AWS_173",),
    ),
    _cfn(
        "sqs-encryption",
        "SQS queue not encrypted",
        ("CF-SQS-001",),
        ("CKV_AWS_27",),
        why_theirs=(
            R(
                "their false positive (outdated): the queue has no KmsMasterKeyId and does not "
                "switch SqsManagedSseEnabled off, so SQS encrypts it with SSE-SQS (the default "
                "since 2022); CF-SQS-001 flags only queues where it is switched off",
                _sqs_default_sse,
            ),
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
            R(
                "their false negative: CKV_AWS_59 fails only a literal `NONE`; a missing, "
                "lower-case or parameter-driven AuthorizationType passes",
                _auth_not_literal_none,
            ),
            R(
                "their false negative: the method has no HttpMethod, and CKV_AWS_59 fails only a "
                "method that names one; AuthorizationType NONE is open whatever the verb",
                _no_http_method,
            ),
        ),
        why_theirs=(
            R(
                "different semantics: HttpMethod resolves to OPTIONS (a parameter whose default "
                "is `Options`): CORS pre-flight requests carry no credentials, so CF-APIGW-004 "
                "skips OPTIONS methods in any letter case; CKV_AWS_59 compares case-sensitively",
                _options_method,
            ),
        ),
    ),
    _cfn("apigw-caching", "API Gateway caching disabled", (), ("CKV_AWS_120",)),
    _cfn(
        "cloudfront-https",
        "CloudFront allows HTTP",
        ("CF-CFRONT-001",),
        ("CKV_AWS_34",),
        why_ours=(
            R(
                "their false negative: ViewerProtocolPolicy is chosen by Fn::If and one branch "
                "is allow-all; checkov passes an Fn::If without looking at its branches",
                _viewer_policy_if_allow_all,
            ),
        ),
    ),
    _cfn(
        "cloudfront-tls",
        "CloudFront viewer TLS < 1.2",
        ("CF-CFRONT-002",),
        ("CKV_AWS_174",),
        why_ours=(
            R(
                "their false negative: ViewerCertificate names no certificate of its own (no "
                "AcmCertificateArn / IamCertificateId), so the distribution is on CloudFront's "
                "default certificate, whose policy stays TLSv1 whatever MinimumProtocolVersion "
                "says; CKV_AWS_174 reads MinimumProtocolVersion alone",
                _default_certificate_named_policy,
            ),
        ),
    ),
    _cfn("cloudfront-waf", "CloudFront without WAF", ("CF-CFRONT-003",), ("CKV_AWS_68",)),
    _cfn("cloudfront-logging", "CloudFront without logging", ("CF-CFRONT-004",), ("CKV_AWS_86",)),
    _cfn(
        "cloudfront-origin-https",
        "CloudFront custom origin over HTTP",
        ("CF-CFRONT-005",),
        ("CKV2_AWS_72",),
        why_ours=(
            R(
                "their false negative: a custom origin is reached with OriginProtocolPolicy "
                "http-only; CKV2_AWS_72 (a graph check) passes it, as it passes every "
                "distribution of the corpus",
                _origin_http_only,
            ),
        ),
    ),
    _cfn("elb-https", "Load balancer listener over HTTP", ("CF-ELB-001",), ("CKV_AWS_2",)),
    _cfn(
        "elb-tls",
        # CKV_AWS_103 fails HTTPS/TLS listeners with an old or missing SslPolicy *and* HTTP
        # listeners that do not redirect to HTTPS: CF-ELB-002 plus CF-ELB-001.
        "Listener without TLS 1.2+ (ours: CF-ELB-002, or CF-ELB-001 for HTTP without redirect)",
        ("CF-ELB-002", "CF-ELB-001"),
        ("CKV_AWS_103",),
    ),
    _cfn(
        "elb-access-logs",
        "Load balancer access logging off",
        ("CF-ELB-003",),
        ("CKV_AWS_91", "CKV_AWS_92"),
        why_theirs=(
            R(
                "by design: a network load balancer with no TLS listener in the template; NLB "
                "access logs record TLS connections only, so CF-ELB-003 checks NLBs with a TLS "
                "listener",
                _nlb_without_tls_listener,
            ),
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
            R(
                'their false positive: every `Principal: "*"` statement is a Deny (here: deny '
                "requests without TLS)",
                _public_statements_deny,
            ),
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
            R(
                "different semantics: KmsKeyId is set through Fn::If with AWS::NoValue; checkov "
                "sees the key and passes, we flag the branch without a key",
                _kms_key_if_no_value,
            ),
        ),
    ),
    _cfn(
        "secret-cmk",
        "Secrets Manager secret without CMK",
        ("CF-SM-002",),
        ("CKV_AWS_149",),
        why_ours=(
            R(
                "different semantics: KmsKeyId can resolve to the AWS managed key "
                "alias/aws/secretsmanager (named, or KmsKeyId removed with Fn::If / "
                "AWS::NoValue); checkov only checks that the key is present",
                _aws_managed_secret_key,
            ),
        ),
    ),
    _cfn(
        "elasticache-at-rest",
        "ElastiCache replication group not encrypted at rest",
        ("CF-ELC-001",),
        ("CKV_AWS_29",),
    ),
    _cfn(
        "elasticache-in-transit",
        "ElastiCache replication group not encrypted in transit",
        ("CF-ELC-002",),
        ("CKV_AWS_30",),
    ),
    _cfn(
        "elasticache-auth-token",
        "ElastiCache in-transit encryption without an AUTH token",
        (),
        ("CKV_AWS_31",),
    ),
    _cfn(
        "kinesis-encryption",
        "Kinesis stream not encrypted",
        ("CF-KINESIS-001",),
        ("CKV_AWS_43",),
        why_ours=(
            R(
                "their false negative: StreamEncryption has no KeyId, which server-side "
                "encryption needs; CKV_AWS_43 passes any StreamEncryption block",
                _stream_encryption_without_key,
            ),
        ),
    ),
    _cfn("efs-encryption", "EFS not encrypted", ("CF-EFS-001",), ("CKV_AWS_42",)),
    _cfn(
        "redshift-encryption",
        "Redshift not encrypted at rest",
        ("CF-RS-001",),
        ("CKV_AWS_64",),
        why_theirs=(
            R(
                "by design: Encrypted is not set, and Redshift encrypts new clusters by default "
                "since January 2025; CF-RS-001 reports an Encrypted that is or may be false",
                _unset("Encrypted"),
            ),
        ),
    ),
    _cfn(
        "redshift-public",
        "Redshift publicly accessible",
        ("CF-RS-003",),
        ("CKV_AWS_87",),
        why_theirs=(
            R(
                "by design: PubliclyAccessible is not set, and new clusters are private by "
                "default since January 2025; CF-RS-003 reports a PubliclyAccessible that is or "
                "may be true",
                _unset("PubliclyAccessible"),
            ),
        ),
    ),
    _cfn("redshift-logging", "Redshift audit logging disabled", ("CF-RS-004",), ("CKV_AWS_71",)),
    _cfn(
        "redshift-ssl",
        "Redshift parameter group does not require SSL",
        ("CF-RS-005",),
        ("CKV_AWS_105",),
    ),
    _cfn("redshift-vpc", "Redshift outside a VPC", (), ("CKV_AWS_154",)),
    _cfn(
        "docdb-encryption", "DocumentDB not encrypted at rest", ("CF-DOCDB-001",), ("CKV_AWS_74",)
    ),
    _cfn("docdb-logging", "DocumentDB audit logs not exported", ("CF-DOCDB-002",), ("CKV_AWS_85",)),
    _cfn(
        "docdb-tls",
        "DocumentDB parameter group disables TLS",
        ("CF-DOCDB-004",),
        ("CKV_AWS_90",),
    ),
    _cfn("neptune-encryption", "Neptune not encrypted", ("CF-NEPTUNE-001",), ("CKV_AWS_44",)),
    _cfn(
        "neptune-logging", "Neptune audit logs not exported", ("CF-NEPTUNE-003",), ("CKV_AWS_101",)
    ),
    _cfn(
        "docdb-neptune-backups",
        "DocumentDB / Neptune backup retention",
        (),
        ("CKV_AWS_360", "CKV_AWS_361"),
    ),
    _cfn("ec2-user-data-secret", "Secret in EC2 user data", ("CF-EC2-014",), ("CKV_AWS_46",)),
    _cfn("dax-encryption", "DAX cluster not encrypted at rest", ("CF-DAX-001",), ("CKV_AWS_47",)),
    _cfn(
        "ecs-container-insights",
        "ECS cluster without Container Insights",
        ("CF-ECS-007",),
        ("CKV_AWS_65",),
    ),
    _cfn(
        "ecs-efs-transit",
        "ECS task mounts EFS without encryption in transit",
        ("CF-ECS-009",),
        ("CKV_AWS_97",),
    ),
    _cfn(
        "mq-logging",
        "Amazon MQ broker logs not sent to CloudWatch Logs",
        ("CF-MQ-001",),
        ("CKV_AWS_197",),
    ),
    _cfn("mq-public", "Amazon MQ broker publicly accessible", ("CF-MQ-002",), ("CKV_AWS_69",)),
    _cfn(
        "codebuild-encryption",
        "CodeBuild artifact or S3 log encryption disabled",
        ("CF-CB-003",),
        ("CKV_AWS_78",),
        why_ours=(
            R(
                "their false negative: Artifacts.EncryptionDisabled is true on a project whose "
                "artifacts go to CodePipeline; CKV_AWS_78 passes such projects",
                _pipeline_artifacts_unencrypted,
            ),
        ),
    ),
    _cfn("msk-logging", "MSK broker logs not delivered", ("CF-MSK-002",), ("CKV_AWS_80",)),
    _cfn(
        "msk-encryption", "MSK cluster allows plaintext traffic", ("CF-MSK-001",), ("CKV_AWS_81",)
    ),
    _cfn(
        "athena-encryption",
        "Athena workgroup does not enforce encrypted results",
        ("CF-ATHENA-001",),
        ("CKV_AWS_82",),
    ),
    _cfn("es-error-logs", "OpenSearch domain logging", ("CF-ES-008",), ("CKV_AWS_84",)),
    _cfn(
        "es-audit-logs",
        "OpenSearch audit logging",
        ("CF-ES-009",),
        ("CKV_AWS_317",),
        why_theirs=(
            R(
                "by design: the domain has no fine-grained access control, without which it "
                "cannot write audit logs; CF-ES-005 reports the missing access control instead",
                _without_fine_grained_access,
            ),
        ),
    ),
    _cfn("dms-public", "DMS replication instance public", ("CF-DMS-001",), ("CKV_AWS_89",)),
    _cfn(
        "glue-catalog-encryption",
        "Glue Data Catalog not encrypted",
        ("CF-GLUE-001",),
        ("CKV_AWS_94",),
    ),
    _cfn(
        "glue-security-configuration",
        "Glue security configuration without encryption",
        ("CF-GLUE-002",),
        ("CKV_AWS_99",),
    ),
    _cfn(
        "eks-nodegroup-ssh", "EKS node group SSH from anywhere", ("CF-EKS-004",), ("CKV_AWS_100",)
    ),
    _cfn(
        "vpc-endpoint-acceptance",
        "VPC endpoint service without manual acceptance",
        ("CF-VPC-004",),
        ("CKV_AWS_123",),
    ),
    _cfn("ecr-kms", "ECR repository not encrypted with KMS", ("CF-ECR-004",), ("CKV_AWS_136",)),
    _cfn(
        "workspaces-encryption",
        "WorkSpaces user or root volume not encrypted",
        ("CF-WS-001",),
        ("CKV_AWS_155", "CKV_AWS_156"),
    ),
    _cfn("backup-vault-cmk", "Backup vault without a CMK", ("CF-BACKUP-001",), ("CKV_AWS_166",)),
    _cfn(
        "sagemaker-notebook-kms",
        "SageMaker notebook storage without a KMS key",
        ("CF-SGM-001",),
        ("CKV_AWS_187",),
    ),
    _cfn(
        "lambda-permission-source",
        "Lambda permission for a service without a source",
        ("CF-LAMBDA-009",),
        ("CKV_AWS_364",),
    ),
    _cfn(
        "cognito-guest-access",
        "Cognito identity pool allows guest access",
        ("CF-COGNITO-002",),
        ("CKV_AWS_366",),
    ),
    _cfn("ssm-parameter-secret", "Secret in an SSM parameter", ("CF-SSM-001",), ("CKV_AWS_384",)),
    _cfn(
        "acm-wildcard", "ACM certificate for a wildcard domain", ("CF-ACM-001",), ("CKV2_AWS_71",)
    ),
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
            R(
                "our false negative: `FROM gcc AS gcc` names the image gcc (an alias cannot refer"
                " to itself), but DF-BASE-001 takes it for a reference to a stage",
                _alias_named_like_image,
            ),
        ),
        why_ours=(
            R(
                "their false negative: a later stage's `FROM alpine:latest` or untagged image in "
                "a multi-stage file (checkov reports one FROM per file)",
                _several_froms,
            ),
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
        why_ours=(R("not a disagreement: hadolint's DL3057 is off in its default configuration"),),
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
    ),
    Concept(
        "df-apt-flags",
        "apt-get install without -y / --no-install-recommends",
        "dockerfile",
        ("DF-RUN-002",),
        hadolint=("DL3014", "DL3015"),
        granularity="line",
        why_theirs=(
            R(
                "their false positive: `apt-get install -s` (simulate) installs nothing; "
                "DF-RUN-002 skips dry runs",
                _apt_simulate,
            ),
        ),
        why_ours=(_SHELL_C_REASON,),
    ),
    Concept(
        "df-apt-pin",
        "apt-get install without pinned versions",
        "dockerfile",
        ("DF-PKG-001",),
        hadolint=("DL3008",),
        granularity="line",
        why_theirs=(
            R(
                "our planned gap: the packages are named through a shell variable set in the "
                "same RUN (`$buildDeps`), which we do not expand",
                _apt_install_variable,
            ),
        ),
        why_ours=(
            R(
                "their false negative: inside `bash -c '…'`, or `apt install` (DL3008 only looks"
                " at apt-get)",
                _shell_c_or_apt,
            ),
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
            R(
                "their false positive: the RUN ends with `apt-get dist-clean` (Debian 13), which "
                "removes the lists; hadolint only knows `rm -rf /var/lib/apt/lists`",
                _runs_dist_clean,
            ),
        ),
        why_ours=(_SHELL_C_REASON,),
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
            R(
                "their false negative: CKV_DOCKER_9 only matches `apt install`, not `apt update`",
                _apt_update_only,
            ),
        ),
    ),
    Concept(
        "df-apk-no-cache",
        "apk add without --no-cache",
        "dockerfile",
        ("DF-PKG-004",),
        hadolint=("DL3019",),
        granularity="line",
    ),
    Concept(
        "df-apk-pin",
        "apk add without pinned versions",
        "dockerfile",
        ("DF-PKG-005",),
        hadolint=("DL3018",),
        granularity="line",
        why_theirs=(
            R(
                "our planned gap: packages named through a shell variable set in the same RUN "
                "(`$pkg`, `$buildDeps`)",
                _apk_add_variable,
            ),
        ),
        why_ours=(_SHELL_C_REASON,),
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
            R(
                "our planned gap: packages named through a shell variable set in the same RUN "
                "(`$pkg`)",
                _yum_install_variable,
            ),
        ),
        why_ours=(_SHELL_C_REASON,),
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
            R(
                "by design: an absolute WORKDIR comes before it in the stage (or a stage it "
                "builds on), so the path depends on nothing outside the Dockerfile; DF-META-002 "
                "flags only a relative WORKDIR resolved against the base image's directory",
                _absolute_workdir_before,
            ),
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
            R(
                "by design: the RUN does not start with cd; DF-SHELL-001 flags a RUN that "
                "*starts* with cd (setting the directory), hadolint any cd inside a multi-step "
                "script, e.g. `cd /usr/local/go/src; ./make.bash`",
                _cd_not_first,
            ),
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
            R(
                "their false positive: no pipe of the RUN can hide a failure: each producer "
                'cannot fail (`echo "$sha256 *go.tgz" | sha256sum -c -`, `{ echo …; } | tee`) or '
                "the consumer fails on empty input anyway (`… | sha256sum -c -`, `… | grep x`); "
                "DF-SHELL-002 ignores those pipes, hadolint flags every pipe",
                _pipes_cannot_hide_failure,
            ),
            R(
                "our false negative: the pipes that can hide a failure are inside a command "
                'substitution (`arch="$(dpkg --print-architecture | awk …)"`, '
                '`runDeps="$(scanelf … | tr … | sort -u)"`); DF-SHELL-002 does not look into '
                "`$(…)` yet (the shell splitter in rules/dockerfile/_helpers.py keeps a "
                "substitution as one word)",
                _unsafe_pipes_in_substitution,
            ),
        ),
        why_ours=(
            R(
                "our false positive: the `|` separates patterns of a shell `case` (`a | b)`), it"
                " is not a pipeline",
                _case_pattern,
            ),
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
            R(
                "their false positive: the RUN installs the sudo package (`apt-get install … "
                "sudo`) without running sudo; we report that as DF-USER-003",
                _sudo_installed_not_run,
            ),
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
            R(
                "different semantics: we want an exact `==` pin; hadolint accepts a range such "
                "as `wheel<0.46`",
                _pip_range,
            ),
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
            R(
                "by design: the pip install runs in a build stage whose files do not reach the "
                "final image",
                _not_final_stage,
            ),
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
        "df-gem-pin",
        "gem install without a pinned version",
        "dockerfile",
        ("DF-PKG-018",),
        hadolint=("DL3028",),
        granularity="line",
    ),
    Concept(
        "df-go-pin",
        "go install without a pinned version",
        "dockerfile",
        ("DF-PKG-019",),
        hadolint=("DL3062",),
        granularity="line",
        why_theirs=(
            R(
                "by design: a later `git checkout` / `reset` / `switch` in the same stage pins "
                "the fetched source to a revision",
                _go_pinned_by_checkout,
            ),
            R(
                "by design: the RUN fetches a tagged release or branch (`git clone --branch`, a "
                "release tarball) and `go` builds that checkout; no module version is resolved",
                _builds_fixed_source,
            ),
        ),
    ),
    Concept(
        "df-pointless-run",
        "RUN command that does nothing in a build (ssh, vim, ps, service ...)",
        "dockerfile",
        ("DF-RUN-006",),
        hadolint=("DL3001",),
        granularity="line",
        why_theirs=(
            R(
                "by design: the RUN kills a process it started itself (`$!`), which is "
                "meaningful inside one build step",
                _kills_own_process,
            ),
        ),
    ),
    Concept(
        "df-stage-name-unique",
        "Stage name used twice",
        "dockerfile",
        ("DF-STAGE-001",),
        checkov=("CKV_DOCKER_11",),
        hadolint=("DL3024",),
        granularity="line",
    ),
    Concept(
        "df-copy-from-own-stage",
        "COPY --from names its own stage",
        "dockerfile",
        ("DF-STAGE-002",),
        hadolint=("DL3023",),
        granularity="line",
    ),
    Concept(
        "df-copy-several-sources",
        "Several COPY sources to a path without a trailing slash",
        "dockerfile",
        ("DF-COPY-001",),
        hadolint=("DL3021",),
        granularity="line",
    ),
    Concept(
        "df-copy-relative",
        "Relative COPY destination without WORKDIR",
        "dockerfile",
        ("DF-COPY-002",),
        hadolint=("DL3045",),
        granularity="line",
    ),
    Concept(
        "df-from-platform",
        "FROM pinned to a fixed --platform",
        "dockerfile",
        ("DF-BASE-004",),
        hadolint=("DL3029",),
        granularity="line",
    ),
    Concept(
        "df-env-self-reference",
        "ENV uses a variable it sets itself",
        "dockerfile",
        ("DF-META-004",),
        hadolint=("DL3044",),
        granularity="line",
    ),
    Concept(
        "df-onbuild-invalid",
        "ONBUILD with FROM, MAINTAINER or ONBUILD",
        "dockerfile",
        ("DF-META-005",),
        hadolint=("DL3043",),
        granularity="line",
    ),
    Concept(
        "df-useradd-large-uid",
        "useradd with a large UID and without -l",
        "dockerfile",
        ("DF-USER-006",),
        hadolint=("DL3046",),
        granularity="line",
    ),
    Concept(
        "df-zypper-interactive",
        "zypper without --non-interactive",
        "dockerfile",
        ("DF-PKG-023",),
        hadolint=("DL3034",),
        granularity="line",
    ),
    Concept(
        "df-zypper-cache",
        "zypper cache left in the image",
        "dockerfile",
        ("DF-PKG-024",),
        hadolint=("DL3036",),
        granularity="line",
    ),
    Concept(
        "df-zypper-pin",
        "zypper install without pinned versions",
        "dockerfile",
        ("DF-PKG-025",),
        hadolint=("DL3037",),
        granularity="line",
    ),
    Concept(
        "df-yarn-cache",
        "yarn cache left in the image",
        "dockerfile",
        ("DF-PKG-022",),
        hadolint=("DL3060",),
        granularity="line",
    ),
    Concept(
        "df-expose-invalid",
        "EXPOSE port out of range",
        "dockerfile",
        ("DF-PORT-005",),
        hadolint=("DL3011",),
        granularity="line",
    ),
    Concept(
        "df-shell-symlink",
        "Default shell replaced by a symlink instead of SHELL",
        "dockerfile",
        ("DF-SHELL-003",),
        hadolint=("DL4005",),
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
            R(
                "their false negative: `trusted=yes` / `allow-insecure=yes` in an apt source; "
                "CKV2_DOCKER_8 only looks for --allow-unauthenticated",
                _trusted_source,
            ),
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
