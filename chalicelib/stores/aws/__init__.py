"""The AWS adapters of the ports: DynamoDB, S3 and SQS (boto3), as `resources.create_all`
makes them."""

from __future__ import annotations

from chalicelib.stores.ports import Stores


def build() -> Stores:
    """The tenancy ports and registered accounts on the tenants table, scans and findings on
    their tables, blobs and upload forms in the artifact bucket, jobs on the account-scan queue,
    alerts on SNS, e-mail on SES (as `settings()` names them)."""
    from chalicelib.stores.aws.accounts import DynamoAccounts
    from chalicelib.stores.aws.audit import DynamoAuditLog
    from chalicelib.stores.aws.blobs import S3Blobs
    from chalicelib.stores.aws.dead_letters import SqsDeadLetters
    from chalicelib.stores.aws.findings import DynamoFindings
    from chalicelib.stores.aws.jobs import SqsJobs
    from chalicelib.stores.aws.notify import S3UploadGrants, SesMail, SnsAlerts
    from chalicelib.stores.aws.policies import DynamoPolicies
    from chalicelib.stores.aws.scans import DynamoScans
    from chalicelib.stores.aws.settings import DynamoSettings
    from chalicelib.stores.aws.stream import KinesisStream
    from chalicelib.stores.aws.tenants import DynamoTenants
    from chalicelib.stores.aws.trends import DynamoTrends
    from chalicelib.stores.aws.waivers import DynamoWaivers

    return Stores(
        tenants=DynamoTenants(),
        policies=DynamoPolicies(),
        audit=DynamoAuditLog(),
        waivers=DynamoWaivers(),
        settings=DynamoSettings(),
        scans=DynamoScans(),
        findings=DynamoFindings(),
        blobs=S3Blobs(),
        accounts=DynamoAccounts(),
        jobs=SqsJobs(),
        stream=KinesisStream(),
        dead_letters=SqsDeadLetters(),
        alerts=SnsAlerts(),
        mail=SesMail(),
        uploads=S3UploadGrants(),
        trends=DynamoTrends(),
    )
