"""The botocore service models as the single source of truth.

Owns: loading models, validation with AWS's wording, output shaping, the error hierarchy and
pagination tokens. May import: botocore and the standard library only.
"""
