"""The conversation core, split by audience (the composition root wires the parts together).

- ``core``: what every part shares: the stores, the clock, the bus (``tell``), live receipts and typing.
- ``transitions``: state changes with their events, and queueing for humans (routing's side).
- ``outgoing``: where staff messages go: pushed live, or stored with an outbox entry.
- ``customers``: customer messages from every channel (``hub.ports.Inbox``, ``SessionInbox``).
- ``known_contacts``: the contact by its channel address, known to the process (no read per message).
- ``current``: the conversations the message path knows (no read per reply).
- ``agents``: the agent desk the console uses (``hub.ports.AgentDesk``).
- ``bot_side``: what the bot does in a conversation (``hub.ports.BotConversations``).

Every state change is stored (with its event) before it is published. No part holds
per-conversation state in memory.
"""
