"""The upload services, one module per caller:

- `lifecycle`: the REST lifecycle (start, read, sign parts, complete, abort).
- `completion`: S3's ObjectCreated events from SQS, the stale-upload sweep.
- `announce`: the upload events both of them publish, in order, once.
- `ports`: what the services need from the stores, S3, courses and media.

The policy (type, size, parts, S3's limits) and the state machine are the
domain's (chalicelib/domain/); Uppy's protocols are the edge's
(chalicelib/routes/uppy.py, chalicelib/routes/uppy_signer.py).
"""
