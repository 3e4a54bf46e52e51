"""Browser journeys through Playwright and Debian Chromium."""
