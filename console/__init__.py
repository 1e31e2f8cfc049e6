"""The agent, supervisor and trainer console: aiohttp routes, WebSockets and static UI."""
