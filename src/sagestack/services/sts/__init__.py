"""STS on sagestack's port: the temporary credentials SageMaker clients ask for (AssumeRole,
GetSessionToken), who a key belongs to (GetCallerIdentity), and the authenticator that makes
the rest of sagestack accept the credentials issued here."""
