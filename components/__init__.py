"""Pulumi ComponentResources. They read a Plan and decide nothing (DESIGN.md, layering)."""
