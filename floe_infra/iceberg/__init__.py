"""Iceberg tables as code: plan and apply floe.yaml's table declarations with pyiceberg."""
