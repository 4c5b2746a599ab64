"""Inference software: llama.cpp builds, frontends (Ollama, LM Studio, Jan), engines, models."""
