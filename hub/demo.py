"""Demo data from the utility domain (a 95598-style power hotline): queues, agents, canned replies."""

from __future__ import annotations

from hub.domain.ids import QueueId, Skill
from hub.domain.model import CannedReply, Department, Queue, WrapUpCode

DEMO_PASSWORD = "northgrid-demo"

QUEUES = (
    Queue(id=QueueId("general"), name="General enquiries", skills=frozenset({Skill("general")})),
    Queue(id=QueueId("billing"), name="Billing and payments", skills=frozenset({Skill("billing")})),
    Queue(id=QueueId("outages"), name="Outages and repairs", skills=frozenset({Skill("outages")}), priority=2),
    Queue(id=QueueId("complaints"), name="Complaints", skills=frozenset({Skill("complaints")}), priority=1),
)

# username, display name, role, skills
AGENTS = (
    ("alice", "Alice Wang", "agent", ("general", "billing")),
    ("bob", "Bob Li", "agent", ("general", "outages")),
    ("chen", "Chen Jing", "agent", ("general", "billing", "complaints")),
    ("sara", "Sara Okafor", "supervisor", ("general", "billing", "outages", "complaints")),
    ("lena", "Lena Fischer", "team_leader", ("general",)),
    ("tom", "Tom Berger", "trainer", ()),
    ("admin", "Hub Admin", "admin", ()),
)

# Where work orders go (hub/work_orders), and one user of each of two departments.
DEPARTMENTS = (
    Department(id="repair_north", name="North district repair crew"),
    Department(id="customer_relations", name="Customer relations"),
    Department(id="metering", name="Metering"),
    Department(id="billing_office", name="Billing office"),
)
DEPARTMENT_USERS = (("dora", "Dora Zhao", "repair_north"), ("max", "Max Sun", "metering"))

# team id, name, leader, members (usernames): Lena leads Alice and Bob; Chen is in no team.
TEAMS = (("north", "Team North", "lena", ("alice", "bob")),)

CAPACITY = {"webchat": 3, "sms": 3, "email": 5, "telegram": 3, "voice": 1}

CANNED = (
    CannedReply(id="greeting", title="Greeting",
                text="Hello, this is Northgrid Power customer service. How can I help you today?"),
    CannedReply(id="account", title="Ask for account number",
                text="Could you give me your customer account number (10 digits, top right of your bill)?"),
    CannedReply(id="bill-breakdown", title="Bill breakdown",
                text="Your bill has three parts: the energy you used (tiered rate), the fixed network charge "
                     "and taxes. The tier resets every January."),
    CannedReply(id="outage-known", title="Known outage",
                text="We know about the outage in your area. Crews are on site; the estimated restoration "
                     "time is shown on our outage map and we will text you when power is back."),
    CannedReply(id="repair-order", title="Repair order created",
                text="I have created a repair work order for you. A technician will call you within 2 hours "
                     "to agree on a visit."),
    CannedReply(id="complaint", title="Complaint registered",
                text="I am sorry for the trouble. Your complaint is registered; a specialist will contact you "
                     "within 24 hours."),
    CannedReply(id="closing", title="Closing",
                text="Is there anything else I can help you with? Thank you for contacting Northgrid Power."),
)

WRAP_UP_CODES = (
    WrapUpCode(code="resolved_first_contact", label="Resolved at first contact"),
    WrapUpCode(code="bill_explained", label="Bill explained"),
    WrapUpCode(code="payment_arranged", label="Payment arranged"),
    WrapUpCode(code="outage_reported", label="Outage reported"),
    WrapUpCode(code="repair_order_created", label="Repair work order created"),
    WrapUpCode(code="complaint_escalated", label="Complaint escalated"),
    WrapUpCode(code="callback_scheduled", label="Callback scheduled"),
)
