"""LiteLLM reads LITELLM_LOCAL_MODEL_COST_MAP at import: set it before any test module here imports litellm."""

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # use the bundled price map; never fetch it
