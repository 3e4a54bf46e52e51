"""Tests for event matchmaking."""
