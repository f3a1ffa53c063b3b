"""The AWS adapters of the ports: DynamoDB (boto3), the tables `resources.create_all` makes."""

from __future__ import annotations

from chalicelib.stores.ports import Stores


def build() -> Stores:
    """Every tenancy port on the tenants table (named by `settings().tenants_table`)."""
    from chalicelib.stores.aws.accounts import DynamoAccounts
    from chalicelib.stores.aws.audit import DynamoAuditLog
    from chalicelib.stores.aws.policies import DynamoPolicies
    from chalicelib.stores.aws.settings import DynamoSettings
    from chalicelib.stores.aws.tenants import DynamoTenants
    from chalicelib.stores.aws.waivers import DynamoWaivers

    return Stores(
        tenants=DynamoTenants(),
        policies=DynamoPolicies(),
        audit=DynamoAuditLog(),
        waivers=DynamoWaivers(),
        settings=DynamoSettings(),
        accounts=DynamoAccounts(),
    )
