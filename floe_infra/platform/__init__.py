"""The platform stack: Pulumi components that turn platform.yaml into a running platform."""
