"""Secrets written in scripts and configuration text (user data, metadata files)."""

from __future__ import annotations

import pytest

from rules._secrets import secret_in_text


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("#!/bin/bash\necho '-----BEGIN RSA PRIVATE KEY-----' > /root/.ssh/id_rsa", "private key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n", "private key"),
        ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "AWS access key id"),
        ("export DB_PASSWORD=hunter2-prod\n./start.sh", "assigned to DB_PASSWORD"),
        ('api_key: "k3y-1234"\n', "assigned to api_key"),
        ("RUN=1 MYSQL_ROOT_PASSWORD='s3cr3t!' docker run mysql", "MYSQL_ROOT_PASSWORD"),
    ],
)
def test_secrets_found(text: str, found: str) -> None:
    assert found in (secret_in_text(text) or "")


@pytest.mark.parametrize(
    "text",
    [
        "#!/bin/bash\nyum install -y httpd\nsystemctl start httpd\n",
        "export DB_PASSWORD=$(aws secretsmanager get-secret-value --secret-id db)",
        'DB_PASSWORD="${DbPassword}"',
        "PASSWORD_FILE=/run/secrets/db\nTOKEN_URL=https://sts.example.com",
        "password: '{{resolve:secretsmanager:db:SecretString:password}}'",
        "export API_TOKEN=<replace-me>",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "key=id",
    ],
)
def test_no_secret(text: str) -> None:
    assert secret_in_text(text) is None
