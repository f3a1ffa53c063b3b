"""Posture: the live resources of an AWS account, collected into an inventory artifact
(`aws_inventory`) and judged like a template.

- `inventory`: the artifact's model (pydantic), what collection writes and the parser reads.
- `collect`: reads an account with boto3 (paginated, adaptive retries, a bounded thread pool),
  one module per service under `services`; what cannot be read is recorded as not assessed.
- `shapes`: each collected resource in its CloudFormation shape, so the CloudFormation rules
  judge live resources as they judge templates.

Nothing here imports Chalice: the collector runs it offline.
"""
