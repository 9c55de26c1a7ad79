"""AWS wire protocols (awsJson 1.0/1.1, rest-json, rest-xml, query), driven by botocore shapes.

Owns: finding the operation a request names, parsing it into a params dict, and serializing
output dicts and errors back onto the wire. Knows nothing about any one AWS service.
May import: `sagestack.spec`. Must not import: api, services, store, http.
"""
