"""Language models: the llama.cpp, OpenAI-compatible-server and scripted backends (backends)."""
