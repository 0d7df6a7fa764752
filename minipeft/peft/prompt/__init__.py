"""Prompt tuning (Lester et al., 2021): P trainable vectors before the input's token vectors."""
from .config import PromptTuningConfig
from .layer import Prompt, PromptWrapper
from .method import PROMPT, prompt_parameter_count

__all__ = ["PromptTuningConfig", "Prompt", "PromptWrapper", "PROMPT", "prompt_parameter_count"]
