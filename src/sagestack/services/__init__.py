"""AWS API semantics, one package per service: handlers that check cross-resource rules, write
desired state to the store and return output dicts.

May import: `sagestack.api` (context, registry), `sagestack.spec`, `sagestack.resources`,
`sagestack.store`. Never starts a process; never builds an HTTP response.
"""
