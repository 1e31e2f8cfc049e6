"""Domain values of the hub: identifiers, conversations, messages, agents, queues and events."""
