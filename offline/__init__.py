"""Runs the Pulumi program offline under mocks (the one place outside components/ that imports pulumi)."""
