#!/usr/bin/env bash
# Register Personal Memory with Claude Code (user scope: every project on this machine).
# Run from the repository root after ./scripts/setup.
claude mcp add --scope user --transport stdio personal-memory -- "$(pwd)/.venv/bin/pmem" serve
