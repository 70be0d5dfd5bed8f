"""inferplan: a declarative planner for a hybrid LLM inference platform on AWS (never imports pulumi)."""

__version__ = "0.1.0"
