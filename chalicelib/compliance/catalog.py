"""The framework catalog: for each framework the controls Pipeguard can assess automatically.

"Automatable" means a machine can decide the control from what Pipeguard sees (CloudFormation
templates, Dockerfiles and image configurations, the inventory of a live AWS account) without a
person's judgement or evidence from outside those artifacts. Organisational, procedural and
physical controls are left out, so each list is a bounded subset of its standard. Titles are
short summaries in our own words, not the standards' text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FRAMEWORKS", "CatalogControl", "Framework", "framework"]


@dataclass(frozen=True)
class CatalogControl:
    id: str
    title: str


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    url: str
    controls: tuple[CatalogControl, ...]

    def control(self, control_id: str) -> CatalogControl | None:
        return next((c for c in self.controls if c.id == control_id), None)


def _controls(text: str) -> tuple[CatalogControl, ...]:
    """`id | title` lines → controls."""
    rows = (line.split("|", 1) for line in text.strip().splitlines())
    return tuple(CatalogControl(ident.strip(), title.strip()) for ident, title in rows)


_CIS_AWS = _controls("""
1.2 | Security contact information is registered for the account
1.4 | The root user has no access keys
1.5 | The root user signs in with MFA
1.6 | The root user's MFA is a hardware device
1.7 | The root user is not used for everyday work
1.8 | The password policy requires at least 14 characters
1.9 | The password policy prevents password reuse
1.10 | Every IAM user with a console password has MFA
1.11 | No access keys created with a user's console password and left unused
1.12 | Credentials unused for 45 days or more are disabled
1.13 | A user has at most one active access key
1.14 | Access keys are rotated within 90 days
1.15 | Users get permissions only through groups
1.16 | No policy granting full "*:*" administrator rights is attached
1.17 | A support role exists to manage incidents with AWS Support
1.19 | Expired server certificates are removed from IAM
1.20 | IAM Access Analyzer is on in every region
1.22 | Access to AWSCloudShellFullAccess is restricted
2.1.1 | S3 bucket policies deny requests that do not use TLS
2.1.2 | MFA Delete is on for S3 buckets
2.1.3 | Data in S3 is discovered and classified (Amazon Macie)
2.1.4 | S3 Block Public Access is on
2.2.1 | EBS volumes are encrypted by default
2.3.1 | RDS storage is encrypted at rest
2.3.2 | RDS automatic minor version upgrades are on
2.3.3 | RDS instances are not publicly accessible
2.4.1 | EFS file systems are encrypted
3.1 | CloudTrail records in every region
3.2 | CloudTrail log file validation is on
3.3 | AWS Config records in every region
3.4 | The CloudTrail bucket has server access logging
3.5 | CloudTrail logs are encrypted with KMS keys
3.6 | Customer-created symmetric KMS keys rotate
3.7 | VPC flow logs are on in every VPC
3.8 | S3 object-level write events are logged
3.9 | S3 object-level read events are logged
4.1 | Unauthorized API calls raise an alarm
4.2 | Console sign-in without MFA raises an alarm
4.3 | Use of the root user raises an alarm
4.4 | IAM policy changes raise an alarm
4.5 | CloudTrail configuration changes raise an alarm
4.6 | Console authentication failures raise an alarm
4.7 | Disabling or deleting customer KMS keys raises an alarm
4.8 | S3 bucket policy changes raise an alarm
4.9 | AWS Config configuration changes raise an alarm
4.10 | Security group changes raise an alarm
4.11 | Network ACL changes raise an alarm
4.12 | Network gateway changes raise an alarm
4.13 | Route table changes raise an alarm
4.14 | VPC changes raise an alarm
4.15 | AWS Organizations changes raise an alarm
4.16 | Security Hub is on
5.1 | Network ACLs allow no remote administration ports from 0.0.0.0/0
5.2 | Security groups allow no remote administration ports from 0.0.0.0/0
5.3 | Security groups allow no remote administration ports from ::/0
5.4 | Default security groups allow no traffic
5.6 | EC2 instances require IMDSv2
""")

_CIS_DOCKER = _controls("""
4.1 | The container runs as a user other than root
4.2 | Images are built only on trusted base images
4.3 | No unnecessary packages are installed in the image
4.6 | The image declares a HEALTHCHECK
4.7 | Package index updates are not run in an instruction of their own
4.8 | setuid and setgid permissions are removed from the image
4.9 | COPY is used instead of ADD
4.10 | No secrets are stored in the image or its Dockerfile
4.11 | Only verified packages are installed
""")

_FSBP = _controls("""
APIGateway.1 | API Gateway REST and WebSocket execution logging is on
APIGateway.2 | API Gateway REST stages use an SSL certificate for backend authentication
APIGateway.3 | API Gateway REST stages have X-Ray tracing
APIGateway.5 | API Gateway REST cache data is encrypted at rest
APIGateway.8 | API Gateway routes name an authorization type
APIGateway.9 | API Gateway V2 stages have access logging
AppSync.1 | AppSync API caches are encrypted at rest
AppSync.2 | AppSync has field-level logging
AutoScaling.1 | Auto Scaling groups behind a load balancer use its health checks
AutoScaling.3 | Auto Scaling launch configurations require IMDSv2
AutoScaling.5 | Auto Scaling launch configurations assign no public IP addresses
CloudFront.1 | CloudFront distributions have a default root object
CloudFront.3 | CloudFront requires encryption in transit
CloudFront.5 | CloudFront distributions have logging
CloudFront.6 | CloudFront distributions have AWS WAF
CloudFront.9 | CloudFront encrypts traffic to custom origins
CloudFront.10 | CloudFront does not use deprecated SSL protocols to custom origins
CloudTrail.1 | A multi-region trail records read and write management events
CloudTrail.2 | CloudTrail encrypts at rest
CloudTrail.4 | CloudTrail log file validation is on
CloudTrail.5 | CloudTrail is integrated with CloudWatch Logs
CloudTrail.6 | The CloudTrail bucket is not publicly accessible
CloudTrail.7 | The CloudTrail bucket has server access logging
CloudWatch.1 | Use of the root user raises an alarm
CloudWatch.2 | Unauthorized API calls raise an alarm
CloudWatch.3 | Console sign-in without MFA raises an alarm
CloudWatch.4 | IAM policy changes raise an alarm
CloudWatch.5 | CloudTrail configuration changes raise an alarm
CloudWatch.6 | Console authentication failures raise an alarm
CloudWatch.7 | Disabling or deleting customer KMS keys raises an alarm
CloudWatch.8 | S3 bucket policy changes raise an alarm
CloudWatch.9 | AWS Config configuration changes raise an alarm
CloudWatch.10 | Security group changes raise an alarm
CloudWatch.11 | Network ACL changes raise an alarm
CloudWatch.12 | Network gateway changes raise an alarm
CloudWatch.13 | Route table changes raise an alarm
CloudWatch.14 | VPC changes raise an alarm
CodeBuild.2 | CodeBuild environment variables hold no clear-text credentials
CodeBuild.3 | CodeBuild S3 logs are encrypted
CodeBuild.5 | CodeBuild environments do not run in privileged mode
CodeBuild.7 | CodeBuild report group exports are encrypted at rest
Config.1 | AWS Config is on and records every resource type
DataFirehose.1 | Firehose delivery streams are encrypted at rest
DMS.1 | DMS replication instances are not public
DMS.9 | DMS endpoints use SSL
DocumentDB.1 | DocumentDB clusters are encrypted at rest
DocumentDB.4 | DocumentDB clusters publish audit logs to CloudWatch Logs
DynamoDB.1 | DynamoDB tables scale capacity with demand
DynamoDB.2 | DynamoDB tables have point-in-time recovery
DynamoDB.3 | DAX clusters are encrypted at rest
DynamoDB.6 | DynamoDB tables have deletion protection
EC2.1 | EBS snapshots are not publicly restorable
EC2.2 | Default security groups allow no traffic
EC2.3 | Attached EBS volumes are encrypted at rest
EC2.4 | Stopped instances are removed after a set period
EC2.6 | VPC flow logging is on in every VPC
EC2.7 | EBS default encryption is on
EC2.8 | EC2 instances use IMDSv2
EC2.9 | EC2 instances have no public IPv4 address
EC2.10 | EC2 is reached through a VPC endpoint
EC2.12 | Unused Elastic IP addresses are released
EC2.13 | Security groups allow no port 22 from anywhere
EC2.14 | Security groups allow no port 3389 from anywhere
EC2.15 | Subnets do not assign public IP addresses automatically
EC2.16 | Unused network ACLs are removed
EC2.18 | Security groups allow unrestricted ingress only on authorized ports
EC2.19 | Security groups allow no unrestricted access to high-risk ports
EC2.21 | Network ACLs allow no ingress from anywhere to ports 22 or 3389
EC2.23 | Transit gateways do not accept VPC attachment requests automatically
EC2.25 | Launch templates assign no public IP addresses
EC2.170 | Launch templates use IMDSv2
ECR.1 | ECR private repositories scan images
ECR.2 | ECR private repositories have tag immutability
ECS.1 | ECS task definitions use secure networking modes and user settings
ECS.2 | ECS services assign no public IP addresses automatically
ECS.3 | ECS task definitions do not share the host's process namespace
ECS.4 | ECS containers run unprivileged
ECS.5 | ECS containers have read-only root file systems
ECS.8 | Secrets are not passed as container environment variables
ECS.12 | ECS clusters have Container Insights
EFS.1 | EFS file systems encrypt data at rest with KMS
EKS.1 | EKS cluster endpoints are not publicly accessible
EKS.2 | EKS clusters run a supported Kubernetes version
EKS.3 | EKS clusters encrypt Kubernetes secrets
EKS.8 | EKS clusters have audit logging
ELB.1 | Application Load Balancers redirect HTTP to HTTPS
ELB.3 | Classic Load Balancer listeners use HTTPS or TLS
ELB.4 | Application Load Balancers drop invalid HTTP headers
ELB.5 | Load balancers have logging
ELB.6 | Load balancers have deletion protection
ELB.7 | Classic Load Balancers have connection draining
ELB.8 | Classic Load Balancer SSL listeners use a strong predefined policy
ELB.9 | Classic Load Balancers balance across zones
ELB.10 | Classic Load Balancers span several Availability Zones
ELB.17 | Load balancer listeners use a recommended TLS policy
ElastiCache.1 | ElastiCache Redis OSS clusters back up automatically
ElastiCache.3 | ElastiCache replication groups fail over automatically
ElastiCache.4 | ElastiCache replication groups are encrypted at rest
ElastiCache.5 | ElastiCache replication groups are encrypted in transit
EMR.3 | EMR security configurations encrypt at rest
EMR.4 | EMR security configurations encrypt in transit
GuardDuty.1 | GuardDuty is on
GuardDuty.10 | GuardDuty S3 Protection is on
IAM.1 | Customer managed policies do not grant full "*" administrator rights
IAM.2 | IAM users have no policies attached directly
IAM.3 | Access keys are rotated within 90 days
IAM.4 | The root user has no access keys
IAM.5 | IAM users with a console password have MFA
IAM.6 | The root user's MFA is a hardware device
IAM.7 | The password policy sets strong requirements
IAM.9 | The root user signs in with MFA
IAM.15 | The password policy requires at least 14 characters
IAM.16 | The password policy prevents password reuse
IAM.18 | A support role exists to manage incidents with AWS Support
IAM.19 | Every IAM user has MFA
IAM.21 | Customer managed policies do not allow every action of a service
IAM.22 | Credentials unused for 45 days are removed
IAM.26 | Expired server certificates are removed from IAM
IAM.28 | IAM Access Analyzer external access analyzer is on
Kinesis.1 | Kinesis streams are encrypted at rest
KMS.3 | KMS keys are not scheduled for deletion unintentionally
KMS.4 | KMS key rotation is on
Lambda.1 | Lambda function policies do not allow public access
Lambda.2 | Lambda functions use supported runtimes
Lambda.3 | Lambda functions run in a VPC
Lambda.5 | VPC Lambda functions span several Availability Zones
Lambda.7 | Lambda functions have active X-Ray tracing
MQ.2 | ActiveMQ brokers stream audit logs to CloudWatch
MSK.1 | MSK clusters encrypt traffic between brokers
MSK.4 | MSK clusters have public access turned off
MSK.6 | MSK clusters refuse unauthenticated access
Neptune.1 | Neptune clusters are encrypted at rest
Neptune.2 | Neptune clusters publish audit logs to CloudWatch Logs
Neptune.7 | Neptune clusters use IAM database authentication
Opensearch.1 | OpenSearch domains are encrypted at rest
Opensearch.2 | OpenSearch domains are not publicly accessible
Opensearch.3 | OpenSearch domains encrypt traffic between nodes
Opensearch.4 | OpenSearch domains send error logs to CloudWatch Logs
Opensearch.5 | OpenSearch domains have audit logging
Opensearch.7 | OpenSearch domains have fine-grained access control
Opensearch.8 | OpenSearch domains use the latest TLS security policy
RDS.1 | RDS snapshots are private
RDS.2 | RDS instances are not publicly accessible
RDS.3 | RDS instances are encrypted at rest
RDS.4 | RDS snapshots are encrypted at rest
RDS.5 | RDS instances run in several Availability Zones
RDS.6 | RDS instances have enhanced monitoring
RDS.7 | RDS clusters have deletion protection
RDS.8 | RDS instances have deletion protection
RDS.9 | RDS instances publish logs to CloudWatch Logs
RDS.10 | RDS instances use IAM authentication
RDS.11 | RDS instances have automatic backups
RDS.12 | RDS clusters use IAM authentication
RDS.13 | RDS automatic minor version upgrades are on
RDS.14 | Aurora clusters have backtracking
RDS.15 | RDS clusters run in several Availability Zones
RDS.16 | RDS clusters copy tags to snapshots
RDS.17 | RDS instances copy tags to snapshots
RDS.24 | RDS clusters use a custom administrator user name
RDS.25 | RDS instances use a custom administrator user name
Redshift.1 | Redshift clusters are not publicly accessible
Redshift.2 | Connections to Redshift clusters are encrypted in transit
Redshift.3 | Redshift clusters take automatic snapshots
Redshift.4 | Redshift clusters have audit logging
Redshift.6 | Redshift clusters upgrade major versions automatically
Redshift.10 | Redshift clusters are encrypted at rest
S3.1 | S3 Block Public Access is on for the account
S3.2 | S3 buckets do not allow public read access
S3.3 | S3 buckets do not allow public write access
S3.5 | S3 bucket policies require TLS
S3.8 | S3 buckets block public access
S3.9 | S3 buckets have server access logging
S3.12 | S3 access is not managed with ACLs
S3.13 | S3 buckets have lifecycle configurations
S3.14 | S3 buckets have versioning
S3.15 | S3 buckets have Object Lock
S3.17 | S3 buckets are encrypted with KMS keys
S3.20 | S3 buckets have MFA delete
SageMaker.1 | SageMaker notebook instances have no direct internet access
SageMaker.2 | SageMaker notebook instances run in a custom VPC
SageMaker.3 | SageMaker notebook users have no root access
SecretsManager.1 | Secrets Manager secrets rotate automatically
SecretsManager.4 | Secrets Manager secrets are rotated within a set number of days
SNS.1 | SNS topics are encrypted at rest with KMS
SNS.4 | SNS topic policies do not allow public access
SQS.1 | SQS queues are encrypted at rest
SQS.3 | SQS queue policies do not allow public access
SSM.1 | EC2 instances are managed by Systems Manager
Transfer.2 | Transfer Family servers do not use plain FTP
WorkSpaces.1 | WorkSpaces user volumes are encrypted at rest
WorkSpaces.2 | WorkSpaces root volumes are encrypted at rest
""")

_NIST = _controls("""
AC-2 | Accounts are managed through their life cycle
AC-2(3) | Inactive accounts are disabled
AC-3 | Access is enforced by policy: nothing is granted to anyone
AC-6 | Least privilege
AC-6(2) | Privileged accounts are not used for non-security work
AU-2 | The events to log are selected and logged
AU-9 | Audit information is protected from tampering
AU-11 | Audit records are kept for a defined period
AU-12 | Systems generate audit records
CM-2 | A baseline configuration is kept
CM-6 | Secure configuration settings are applied
CM-7 | Least functionality: unneeded services and ports are off
CM-8 | An inventory of system components is kept
CP-9 | Backups are taken
CP-10 | Systems can be recovered and reconstituted
IA-2 | Users are identified and authenticated
IA-2(1) | Privileged accounts use multi-factor authentication
IA-5 | Authenticators are managed and refreshed
IA-5(1) | Passwords meet complexity and reuse rules
IA-5(7) | No unencrypted static authenticators are embedded in code or configuration
RA-5 | Vulnerabilities are scanned for
SC-5 | Denial-of-service protection
SC-7 | Boundary protection: exposure to the internet is controlled
SC-8 | Data in transit is protected (confidentiality and integrity)
SC-12 | Cryptographic keys are established and managed
SC-13 | Approved cryptography is used
SC-28 | Data at rest is protected
SI-2 | Flaws are remediated: software is kept patched and supported
SI-4 | The system is monitored for attacks and unauthorized use
SI-7 | Software and information integrity is verified
""")

_PCI = _controls("""
1.2.5 | Every allowed service, protocol and port is identified and approved
1.3.1 | Inbound traffic to the cardholder data environment is restricted
2.2.4 | Only necessary services, protocols and daemons are enabled
2.2.5 | Insecure services, protocols and daemons are justified and secured
2.2.7 | Non-console administrative access is encrypted
3.5.1 | Stored account data is rendered unreadable (encryption at rest)
3.7.4 | Cryptographic keys are changed at the end of their cryptoperiod
4.2.1 | Strong cryptography protects data sent over open networks
6.3.3 | Security patches are installed: components stay supported
6.4.2 | Public-facing web applications are protected by an automated solution (a WAF)
7.2.1 | An access control model restricts access to what is needed
7.2.2 | Access is granted by least privilege
8.2.1 | Every user has a unique ID
8.2.6 | Inactive user accounts are removed or disabled within 90 days
8.3.6 | Passwords are at least 12 characters with letters and digits
8.3.7 | New passwords differ from the last four
8.3.9 | Single-factor passwords are changed at least every 90 days
8.4.1 | Administrative access uses multi-factor authentication
8.4.2 | All access into the cardholder data environment uses multi-factor authentication
8.6.2 | Passwords of system and application accounts are not hard-coded
10.2.1 | Audit logs are enabled and active
10.3.2 | Audit log files are protected from modification
10.3.3 | Audit log files are backed up to a central store
10.4.1.1 | Audit log reviews are automated
10.5.1 | Audit log history is kept for at least 12 months
11.3.1 | Internal vulnerability scans are run
11.5.1 | Intrusion detection or prevention watches network traffic
""")

FRAMEWORKS: dict[str, Framework] = {
    f.id: f
    for f in (
        Framework(
            "cis-aws-3.0",
            "CIS Amazon Web Services Foundations Benchmark",
            "3.0.0",
            "https://www.cisecurity.org/benchmark/amazon_web_services",
            _CIS_AWS,
        ),
        Framework(
            "cis-docker-1.6",
            "CIS Docker Benchmark (section 4: images and build files)",
            "1.6.0",
            "https://www.cisecurity.org/benchmark/docker",
            _CIS_DOCKER,
        ),
        Framework(
            "fsbp",
            "AWS Foundational Security Best Practices",
            "1.0.0",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html",
            _FSBP,
        ),
        Framework(
            "nist-800-53-r5",
            "NIST SP 800-53 Security and Privacy Controls",
            "Revision 5",
            "https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final",
            _NIST,
        ),
        Framework(
            "pci-dss-4.0",
            "PCI Data Security Standard",
            "4.0",
            "https://www.pcisecuritystandards.org/document_library/",
            _PCI,
        ),
    )
}


def framework(framework_id: str) -> Framework | None:
    return FRAMEWORKS.get(framework_id)
