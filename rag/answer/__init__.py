"""Answering: select evidence (evidence, questions), refuse (answerability), generate (generate), verify (verify); prompt templates (prompts)."""
