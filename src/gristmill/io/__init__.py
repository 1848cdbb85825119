"""Readers, writers and input discovery."""
