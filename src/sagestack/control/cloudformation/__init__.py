"""A small CloudFormation engine: what SageMaker Projects' template providers provision with.

It lives under `control/` because the project controller is its only user and because it must
not import `services/` (it provisions through an injected operation caller, the same handlers
the API uses). The parts:

- `template`: reading a template (JSON, or YAML with the short-form tags such as `!Ref`);
- `intrinsics`: evaluating Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::If, ... over a context;
- `plan`: parameters, conditions, the resources that exist and their dependency order;
- `types`: the resource types sagestack provides (type → operations, names, Ref/GetAtt);
- `stacks`: creating, updating and deleting a stack's resources, with CloudFormation's
  rollback.

Everything but `stacks` is pure code with its own unit tests.
"""
