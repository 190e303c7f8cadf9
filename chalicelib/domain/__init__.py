"""The domain: records, states, limits and rules, free of AWS and HTTP.

Nothing here imports boto3 or Chalice's routing; services build on it and the
stores map between it and DynamoDB items.
"""
