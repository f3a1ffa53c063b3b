"""Rules about credentials written into the image or its build."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules._secrets import is_literal_secret_value, is_secret_name, name_tokens
from rules.dockerfile._helpers import Command, cis, facts, key_values, shorten, split_words

# option names that mention a secret without carrying one (`--password-stdin`, `--no-password`)
_NOT_A_SECRET_OPTION = frozenset(
    {"stdin", "prompt", "fd", "store", "helper", "command", "cmd", "hash", "min", "max"}
    | {"reset", "change", "required", "auth", "less", "expire", "expired", "hint", "policy"}
)
_LOGIN_TOOLS = frozenset({"docker", "podman", "buildah", "nerdctl", "skopeo", "helm", "oras"})
_MYSQL_TOOLS = frozenset({"mysql", "mysqladmin", "mysqldump", "mariadb", "mariadb-dump"})
_CONFIG_TOOLS = frozenset({"npm", "yarn", "pnpm"})
_AUTH_TOKEN = re.compile(r"_auth(?:Token)?+\s*+=\s*+([^\s\"'$]++)")
# scheme://user:password@host; the lookbehind keeps the scan linear
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*+)://([^\s/@:'\"]*+):([^\s/@'\"]++)@"
)
# dummy values given to a tool that insists on having a credential (`API_KEY=fake tool version`)
_PLACEHOLDERS = frozenset({"fake", "dummy", "placeholder", "unused", "none", "null", "xxx", "-"})
_PLACEHOLDER_PASSWORDS = frozenset({"x-oauth-basic", "x-oauth", "x"})
_KEY_FILES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
    | {".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".dockercfg", ".pgpass"}
    | {".htpasswd", ".vault-token", "credentials.json", "service-account.json"}
)
_ENV_FILE = re.compile(r"^\.env(?:\.[A-Za-z0-9_-]++)?+$")
_ENV_FILE_TEMPLATES = frozenset({"example", "sample", "template", "dist", "defaults", "default"})
# every path `_sensitive` accepts contains one of these (cheap pre-check)
_FILE_HINTS = (
    "id_",
    "rc",
    ".git-credentials",
    ".dockercfg",
    ".pgpass",
    ".htpasswd",
    ".vault-token",
    "credentials",
    "service-account",
    ".env",
    ".ssh",
)
_SSH_PUBLIC = frozenset({"known_hosts", "config", "authorized_keys", "ssh_config"})


# every name `is_secret_name` accepts contains one of these (cheap pre-check)
_NAME_HINTS = ("pass", "pwd", "secret", "token", "credential", "key")
# a RUN without any of these cannot match DF-SECRET-003 (cheap pre-check)
_RUN_SECRET_HINTS = (
    "pass",
    "secret",
    "token",
    "key",
    "credential",
    "pwd",
    "auth",
    "login",
    "mysql",
    "maria",
    "-u ",
    "--user",
)
_SECRETISH = re.compile(r"pass|secret|token|key|credential|pwd|auth", re.IGNORECASE)


@functools.lru_cache(maxsize=2048)
def _secret_option(name: str) -> bool:
    if not _SECRETISH.search(name):
        return False
    bare = name.lstrip("-")
    if bare.startswith("no-"):
        return False
    tokens = name_tokens(bare)
    return bool(tokens) and tokens[-1] not in _NOT_A_SECRET_OPTION and is_secret_name(bare)


def _literal(value: str | None) -> bool:
    if value is None:
        return False
    value = value.strip()
    if value.startswith(("id=", "type=")) or "src=" in value or "env=" in value:
        return False  # `--secret id=npm,src=...` names a secret, it does not hold one
    if value.lower().strip("'\"") in _PLACEHOLDERS:
        return False
    return is_literal_secret_value(value) and "$" not in value and value not in ("-", "''", '""')


def _command_secrets(commands: list[Command]) -> Iterator[str]:
    """What each command gives away, described (`--password`, `DB_PASSWORD=`)."""
    for pos, command in enumerate(commands):
        for name, value in command.assignments:
            if is_secret_name(name) and _literal(value):
                yield f"{name}=..."
        args = command.args
        if command.name == "export":
            for arg in args:
                name, sep, value = arg.partition("=")
                if sep and is_secret_name(name) and _literal(value):
                    yield f"export {name}=..."
            continue
        if command.name in _CONFIG_TOOLS and args[:2] == ["config", "set"] and len(args) >= 3:
            key, sep, value = args[2].partition("=")
            if not sep:
                value = args[3] if len(args) > 3 else ""
            last = key.rsplit(":", 1)[-1]
            if is_secret_name(last.lstrip("_")) and _literal(value):
                yield f"{command.name} config set {key}"
            continue
        if (
            command.name in ("echo", "printf")
            and command.piped
            and pos + 1 < len(commands)
            and commands[pos + 1].name == "chpasswd"
        ):
            for arg in args:
                user, sep, password = arg.partition(":")
                if sep and user and _literal(password):
                    yield "a password piped into chpasswd"
                    break
        for idx, arg in enumerate(args):
            if not arg.startswith("-") or arg == "-":
                continue
            name, sep, value = arg.partition("=")
            if arg.startswith("--"):
                if not _secret_option(name):
                    continue
                if not sep:
                    value = args[idx + 1] if idx + 1 < len(args) else ""
                    if value.startswith("-"):
                        continue
                if _literal(value):
                    yield name
            elif command.name in _LOGIN_TOOLS and arg == "-p" and "login" in args[:idx]:
                if idx + 1 < len(args) and _literal(args[idx + 1]):
                    yield f"{command.name} login -p"
            elif command.name in _MYSQL_TOOLS and arg.startswith("-p") and len(arg) > 2:
                if _literal(arg[2:]):
                    yield f"{command.name} -p<password>"
            elif command.name == "curl" and arg in ("-u", "-U") and idx + 1 < len(args):
                _, colon, password = args[idx + 1].partition(":")
                if colon and _literal(password):
                    yield f"curl {arg} user:password"


@rule(
    id="DF-SECRET-001",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Secret value hard-coded in ENV or ARG",
    severity="high",
    description=(
        "Values given to ENV and ARG are stored in the image configuration and its history: "
        "anyone who can pull the image can read a password or token written there, and it "
        "stays in every copy of the image and of the Dockerfile's repository."
    ),
    remediation=(
        "Pass the secret at run time (`docker run -e DB_PASSWORD`, an orchestrator secret), or "
        "mount it only for the build step that needs it:\n"
        "`RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci`"
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/reference/dockerfile/#env",
        cis("4.10"),
    ),
)
def hardcoded_secret(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins in shared.find("ENV", "ARG"):
        if ins.cmd == "ARG" and "=" not in ins.value:
            continue  # no default value: nothing hard-coded
        if not any(hint in shared.lower_value(ins) for hint in _NAME_HINTS):
            continue
        for name, value in key_values(ins):
            if is_secret_name(name) and is_literal_secret_value(value):
                yield Hit(f"{ins.cmd} {name} is given a literal value", line=ins.line)


@rule(
    id="DF-SECRET-002",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Secret passed as a build argument",
    severity="medium",
    description=(
        "A build argument named like a credential is meant to receive one with "
        "`--build-arg`. Build arguments are recorded in the image history and build "
        "provenance, so the secret leaks to everyone who can pull the image."
    ),
    remediation=(
        "Use a build secret instead of an ARG: `RUN --mount=type=secret,id=api_token "
        "./fetch-deps.sh` and build with `docker build --secret id=api_token,env=API_TOKEN .`"
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/reference/dockerfile/#arg",
        cis("4.10"),
    ),
)
def secret_build_arg(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins in shared.find("ARG"):
        if not any(hint in shared.lower_value(ins) for hint in _NAME_HINTS):
            continue
        for name, value in key_values(ins):
            if value is None and is_secret_name(name):
                yield Hit(f"ARG {name} receives a secret as a build argument", line=ins.line)


@rule(
    id="DF-SECRET-003",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Credential written on a RUN command line",
    severity="high",
    description=(
        "A password or token typed into a RUN command (`--password s3cr3t`, `TOKEN=abc "
        "./deploy`, `npm config set _authToken ...`) is kept in the Dockerfile's repository, "
        "in the image history (`docker history` shows every RUN) and in build logs. Everyone "
        "with access to any of them has the credential."
    ),
    remediation=(
        "Mount the secret for that one step and read it from the file:\n"
        "`RUN --mount=type=secret,id=db_password mysql -u app "
        '--password="$(cat /run/secrets/db_password)" < /schema.sql`\n'
        "and build with `docker build --secret id=db_password,src=./db_password.txt .`"
    ),
    references=("https://docs.docker.com/build/building/secrets/", cis("4.10")),
)
def secret_in_run(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions(*_RUN_SECRET_HINTS):
        return
    for ins, commands in shared.runs():
        lower = shared.lower_value(ins)
        if not any(word in lower for word in _RUN_SECRET_HINTS):
            continue
        found = next(_command_secrets(commands), None)
        if found is None and "_auth" in ins.value:
            match = _AUTH_TOKEN.search(shared.text_of(ins))
            if match and _literal(match.group(1)):
                found = "an npm _authToken"
        if found is not None:
            yield Hit(f"RUN passes a literal credential ({found})", line=ins.line)


def url_credentials(text: str) -> str | None:
    """The `scheme://user:***@` of the first URL in `text` with a literal password."""
    if "://" not in text or "@" not in text:
        return None
    for match in _URL_CREDENTIALS.finditer(text):
        user, password = match.group(2), match.group(3)
        if password.lower() in _PLACEHOLDER_PASSWORDS or not _literal(password):
            continue
        return f"{match.group(1)}://{user}:***@"
    return None


@rule(
    id="DF-SECRET-004",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Credentials embedded in a URL",
    severity="high",
    description=(
        "A URL of the form `https://user:password@host` carries the credential in clear "
        "text. Written in a Dockerfile (RUN, ADD, ENV, ARG ...) it ends up in the repository, "
        "the image history and the build logs, and tools that print the URL leak it further."
    ),
    remediation=(
        "Keep credentials out of URLs: mount them as a build secret and let the tool read "
        "them, e.g.\n`RUN --mount=type=secret,id=netrc,target=/root/.netrc "
        "pip install --no-cache-dir -r requirements.txt` (with `--secret id=netrc,"
        "src=$HOME/.netrc`), or `git clone` with a credential helper."
    ),
    references=("https://docs.docker.com/build/building/secrets/", cis("4.10")),
)
def credentials_in_url(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins in df.instructions:
        value = ins.value
        if "://" not in value or "@" not in value or ins.cmd == "FROM":
            continue
        found = url_credentials(shared.text_of(ins) if ins.cmd == "RUN" else value)
        if found:
            yield Hit(f"{ins.cmd} contains a URL with a password ({found})", line=ins.line)


def _sensitive(path: str) -> bool:
    base = _base(path)
    if base in _KEY_FILES:
        return True
    match = _ENV_FILE.match(base)
    if match:
        suffix = base[5:]
        return suffix not in _ENV_FILE_TEMPLATES
    parts = path.split("/")
    if ".ssh" in parts[:-1] and base not in _SSH_PUBLIC and not base.endswith(".pub"):
        return bool(base) and base != ".ssh"
    return len(parts) >= 2 and parts[-2] == ".aws" and base == "credentials"


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _copied_paths(ins: Instruction) -> tuple[list[str], str]:
    words = ins.json_args if ins.json_args is not None else split_words(ins.args.split("\n")[0])
    words = [word for word in words if not word.startswith("<<")]
    if len(words) < 2:
        return [], ""
    return words[:-1], words[-1]


@rule(
    id="DF-SECRET-005",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Private key or credential file copied into the image",
    severity="high",
    description=(
        "COPY and ADD put files into an image layer for good: a private SSH key, an `.npmrc` "
        "or `.pypirc` with a token, a `.env` file or cloud credentials copied in can be "
        "extracted by anyone who pulls the image, even if a later step deletes them."
    ),
    remediation=(
        "Mount the file only for the step that needs it:\n"
        "`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci` or, for SSH, "
        "`RUN --mount=type=ssh git clone git@github.com:org/private.git` "
        "(build with `--ssh default`); keep such files in `.dockerignore`."
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/build/concepts/context/#dockerignore-files",
        cis("4.10"),
    ),
)
def credential_file_copied(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins in shared.find("COPY", "ADD"):
        lower = shared.lower_value(ins)
        if ins.heredocs or not any(hint in lower for hint in _FILE_HINTS):
            continue
        sources, dest = _copied_paths(ins)
        if not sources:
            continue
        flagged = [src for src in sources if _sensitive(src) or _base(src) == ".ssh"]
        dest_dir = dest.endswith("/") or len(sources) > 1
        dest_base = _base(dest)
        if not flagged and not dest_dir and _sensitive(dest):
            flagged = [dest]
        if not flagged and dest_base == ".ssh":
            flagged = [src for src in sources if _sensitive(".ssh/" + _base(src))]
        if flagged:
            yield Hit(f"{ins.cmd} puts {flagged[0]} into the image", line=ins.line)


_KEYGEN_LOOKUPS = frozenset(
    {"-l", "-F", "-R", "-y", "-e", "-i", "-L", "-Q", "-Y", "-H", "-B", "-D", "-K", "-k", "-p"}
    | {"-c", "-r", "-M", "-G", "-T"}
)
_OPENSSL_KEYGEN = frozenset({"genrsa", "gendsa", "genpkey"})


def _generates_key(command: Command) -> bool:
    args = command.args
    if command.name == "ssh-keygen":
        return not any(arg in _KEYGEN_LOOKUPS for arg in args)
    if command.name == "dropbearkey":
        return True
    if command.name == "openssl" and args:
        action = args[0]
        if action in _OPENSSL_KEYGEN:
            return True
        if action == "req":
            return "-newkey" in args or ("-keyout" in args and "-key" not in args)
        return action == "ecparam" and "-genkey" in args
    return False


@rule(
    id="DF-SECRET-006",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Private key generated during the build",
    severity="medium",
    description=(
        "A key made by `ssh-keygen`, `openssl genrsa` or `openssl req -newkey` in a RUN is "
        "baked into the image: every container started from it, and everyone who can pull "
        "it, holds the same private key. SSH host keys, TLS server keys and client keys are "
        "then shared and cannot be revoked for a single instance."
    ),
    remediation=(
        "Create keys when the container starts (an entrypoint that runs `ssh-keygen -A` if "
        "none exist), or mount them at run time from a secret store: `docker run -v "
        "/run/secrets/tls:/etc/tls:ro ...` / a Kubernetes Secret."
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/engine/swarm/secrets/",
    ),
)
def key_generated_in_build(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("keygen", "openssl", "dropbearkey"):
        return
    flagged: set[int] = set()
    for command in shared.named("ssh-keygen", "openssl", "dropbearkey"):
        ins = command.ins
        if id(ins) in flagged or not shared.in_final_image(ins) or not _generates_key(command):
            continue
        flagged.add(id(ins))
        yield Hit(f"RUN generates a private key ({command.name})", line=ins.line)


_COPIERS = frozenset({"cp", "install", "rsync", "mv"})
_CONFIG_WRITERS = frozenset({"npm", "yarn", "pnpm", "pip", "git", "poetry", "bundle"})
_UNSET = frozenset({"delete", "rm", "unset", "--unset", "--unset-all"})
_REDIRECT_TARGET = re.compile(r"(?<![0-9&])>>?+\s*+([^\s;&|<>]++)")
_NOT_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})


def _secret_mounts(ins: Instruction) -> list[str]:
    """Where `RUN --mount=type=secret,...` puts its secrets (plus the default folder)."""
    paths = ["/run/secrets/"]
    for word in ins.value.split():
        if not word.startswith("--"):
            break
        if not word.startswith("--mount=") or "type=secret" not in word:
            continue
        for part in word[len("--mount=") :].split(","):
            key, _, value = part.partition("=")
            if key in ("target", "dst", "destination") and value:
                paths.append(value.strip("'\""))
    return paths


def _removed(commands: list[Command], after: int, path: str) -> bool:
    """Whether a later `rm` in the same RUN deletes `path`."""
    path = path.strip("'\"").rstrip("/")
    return any(
        c.name == "rm" and any(arg.strip("'\"").rstrip("/") == path for arg in c.args)
        for c in commands[after + 1 :]
    )


def _persisted_secret(commands: list[Command], mounts: list[str]) -> str | None:
    """What a RUN does to keep a mounted secret in the layer, if it does."""
    for pos, command in enumerate(commands):
        text = command.text
        if not any(mount in text for mount in mounts):
            continue
        name = command.name
        if name in _COPIERS:
            operands = [arg for arg in command.args if not arg.startswith("-")]
            if len(operands) >= 2 and any(
                any(mount in src for mount in mounts) for src in operands[:-1]
            ):
                dest = operands[-1]
                if not _removed(commands, pos, dest):
                    return f"{name} copies it to {shorten(dest, 40)}"
        if ">" in text:
            for match in _REDIRECT_TARGET.finditer(text):
                dest = match.group(1)
                if dest not in _NOT_FILES and not _removed(commands, pos, dest):
                    return f"it is written to {shorten(dest, 40)}"
        if command.piped and pos + 1 < len(commands) and commands[pos + 1].name == "tee":
            dests = [a for a in commands[pos + 1].args if not a.startswith("-")]
            if dests and not _removed(commands, pos + 1, dests[0]):
                return f"tee writes it to {shorten(dests[0], 40)}"
        if name in _CONFIG_WRITERS and "config" in command.args[:2]:
            unset_later = any(
                later.name == name and _UNSET.intersection(later.args)
                for later in commands[pos + 1 :]
            )
            if not unset_later:
                return f"`{name} config` stores it in a configuration file"
    return None


@rule(
    id="DF-SECRET-007",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="dockerfile",
    title="Build secret saved into the image",
    severity="high",
    description=(
        "A secret mount (`RUN --mount=type=secret`) keeps a token out of the image only "
        "while it stays on the mount. Copying it elsewhere (`cp /run/secrets/npmrc "
        "~/.npmrc`), writing it to a file (`cat ... > .netrc`) or storing it with "
        "`npm config set` / `git config` puts it into the layer, where everyone who can "
        "pull the image, or read the build cache, finds it."
    ),
    remediation=(
        "Mount the secret where the tool looks for it, for that one step: "
        "`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`; or delete the copy "
        "in the same RUN: `RUN --mount=type=secret,id=netrc cp /run/secrets/netrc "
        "/root/.netrc && pip install -r requirements.txt && rm /root/.netrc`."
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/reference/dockerfile/#run---mounttypesecret",
    ),
)
def secret_saved(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, commands in shared.runs():
        if "type=secret" not in ins.value and "/run/secrets/" not in ins.value:
            continue
        how = _persisted_secret(commands, _secret_mounts(ins))
        if how:
            yield Hit(f"RUN keeps a build secret in the layer: {how}", line=ins.line)
