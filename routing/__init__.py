"""The ACD: queues, skills, priorities, capacity per channel, presence, selection and atomic claims."""
