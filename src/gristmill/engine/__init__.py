"""Executors: the streaming local engine (default) and, optionally, Ray."""
