"""A CI run's three artifacts, each with findings, shared by the pipeline tests."""

DOCKERFILE = "FROM ubuntu:latest\nRUN apt-get update && apt-get install curl\nEXPOSE 22\n"
TEMPLATE = """\
Resources:
  Logs:
    Type: AWS::S3::Bucket
  Ssh:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ssh
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}
"""
JUNIT = '<testsuite name="s"><testcase classname="c" name="t"><failure/></testcase></testsuite>'
ARTIFACTS = [
    {"type": "dockerfile", "path": "Dockerfile", "content": DOCKERFILE},
    {"type": "cloudformation", "path": "infra/app.yaml", "content": TEMPLATE},
    {"type": "junit", "path": "reports/junit.xml", "content": JUNIT},
]
