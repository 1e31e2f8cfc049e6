"""Work orders (工单): a repair, complaint or dispute followed to closure, against its SLA timers."""
