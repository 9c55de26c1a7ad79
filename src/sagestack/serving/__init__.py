"""The request path of InvokeEndpoint: routing snapshots, the router and the proxy to replicas."""
