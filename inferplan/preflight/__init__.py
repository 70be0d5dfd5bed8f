"""Preflight: does the AWS account let `pulumi up` succeed (identity, GPU offerings per AZ, vCPU quotas,
pre-created secrets), and `--refresh-prices` for the local price cache.

`checks` holds pure functions over AWS answers, `aws` the boto3 calls, `run` the sequence of both,
`prices_cache` the cache the cost engine reads. This module imports none of them, so reading the
price cache never imports boto3.
"""
