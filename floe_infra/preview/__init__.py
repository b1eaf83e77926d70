"""Offline preview: the real programs under Pulumi's mock runtime, and what they would create."""
