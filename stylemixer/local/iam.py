"""IAM in the embedded AWS: each function's role, from the grants the CDK app deploys.

The local stack creates one role per function with the policy :mod:`stylemixer.permissions` gives
it (rendered with the local ARNs), takes each role's credentials from STS as Lambda does for a
function, and then has moto enforce IAM on every request (:func:`enforce_iam`). From then on a
function can do only what its deployed role allows, an action a role lacks is refused as in AWS,
and a caller moto does not know (the environment's placeholder keys, say) is refused outright.

moto's IAM checks a call's action and, for S3 and SQS (and DynamoDB, see
:mod:`stylemixer.local.moto_iam`), its resource. It cannot evaluate policy conditions (the roles
here have none), and the roles' credentials do not expire here.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stylemixer.local.context import LOCAL_ACCOUNT, LOCAL_REGION
from stylemixer.permissions import GRANTS, Function, Target, index_arn, object_arns, policy_document
from stylemixer.resources import QUEUED_INDEX

if TYPE_CHECKING:
    from collections.abc import Mapping

    from boto3.session import Session

    from stylemixer.local.aws import LocalResources
    from stylemixer.permissions import Grant

#: Who may assume a function's role: Lambda, as in the deployed stack.
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
#: Everything, for the one identity that arranges and inspects the embedded AWS in tests.
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True, slots=True)
class Credentials:
    """An identity moto knows: a role's session credentials, or an IAM user's key."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def session(self, region: str = LOCAL_REGION) -> Session:
        """A boto3 session that signs with these credentials (endpoints come from the environment)."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=region,
        )

    def client(self, service: str, endpoint_url: str | None = None, region: str = LOCAL_REGION) -> Any:
        """A boto3 client for ``service`` signed with these credentials."""
        return self.session(region).client(service, endpoint_url=endpoint_url)


def local_arns(
    resources: LocalResources, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT
) -> dict[Target, str]:
    """The ARNs of the local resources, for :func:`stylemixer.permissions.policy_document`.

    Example:
        >>> from stylemixer.local.aws import create_resources, start_moto
        >>> server, endpoint = start_moto()
        >>> local_arns(create_resources(endpoint))[Target.JOBS_TABLE]
        'arn:aws:dynamodb:us-east-1:123456789012:table/stylemixer-jobs'
        >>> server.stop()
    """
    queue_name = resources.queue_url.rstrip("/").rsplit("/", 1)[1]
    dlq_name = resources.dlq_url.rstrip("/").rsplit("/", 1)[1]
    table = f"arn:aws:dynamodb:{region}:{account}:table/{resources.table}"
    return {
        **object_arns(f"arn:aws:s3:::{resources.bucket}"),
        Target.JOBS_TABLE: table,
        Target.QUEUED_INDEX: index_arn(table, QUEUED_INDEX),
        Target.QUOTAS_TABLE: f"arn:aws:dynamodb:{region}:{account}:table/{resources.quota_table}",
        Target.JOBS_QUEUE: f"arn:aws:sqs:{region}:{account}:{queue_name}",
        Target.DEAD_LETTER_QUEUE: f"arn:aws:sqs:{region}:{account}:{dlq_name}",
    }


def create_roles(
    iam: Any,
    sts: Any,
    arns: Mapping[Target, str],
    grants: Mapping[Function, tuple[Grant, ...]] = GRANTS,
) -> dict[Function, Credentials]:
    """Create each function's role with its policy, and assume it as Lambda would; before enforcing.

    ``grants`` defaults to the deployed ones; tests pass fewer to see a missing permission refused.

    Example:
        >>> from stylemixer.local.aws import client, create_resources, start_moto
        >>> server, endpoint = start_moto()
        >>> arns = local_arns(create_resources(endpoint))
        >>> roles = create_roles(client("iam", endpoint), client("sts", endpoint), arns)
        >>> enforce_iam(endpoint)
        >>> roles[Function.API].client("s3", endpoint).list_buckets()  # the API may not list buckets
        Traceback (most recent call last):
        botocore.errorfactory.AccessDenied: An error occurred (AccessDenied) when calling ...
        >>> server.stop()
    """
    credentials: dict[Function, Credentials] = {}
    for function in Function:
        name = function.local_name
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
        iam.put_role_policy(
            RoleName=name,
            PolicyName=f"{name}-policy",
            PolicyDocument=json.dumps(policy_document(grants[function], arns)),
        )
        assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=name)["Credentials"]
        credentials[function] = Credentials(
            assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
        )
    return credentials


def create_operator(iam: Any, name: str = "stylemixer-operator") -> Credentials:
    """An IAM user allowed everything: the identity tests arrange and inspect the embedded AWS with."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def enforce_iam(endpoint_url: str) -> None:
    """From the next request on, moto's server checks every caller and every action (no exceptions).

    Example:
        >>> from stylemixer.local.aws import client, start_moto
        >>> server, endpoint = start_moto()
        >>> enforce_iam(endpoint)
        >>> client("s3", endpoint).list_buckets()  # the placeholder keys are no one's
        Traceback (most recent call last):
        botocore.exceptions.ClientError: An error occurred (InvalidAccessKeyId) when calling ...
        >>> server.stop()
    """
    # (A form's content type would leave the body to werkzeug's form parser, and moto reads the body.)
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
