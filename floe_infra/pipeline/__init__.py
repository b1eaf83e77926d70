"""The pipeline stack: one Pulumi project per floe.yaml, on the platform stack's contract."""
