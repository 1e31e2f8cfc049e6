export default {
  "snooze.choose": "Snooze…",
  "snooze.hour": "For 1 hour",
  "snooze.tomorrow": "Until tomorrow 9:00",
  "snooze.pick": "Until a time I pick…",
  "snooze.time": "Snooze until",
  "snooze.submit": "Snooze",
  "snooze.wake": "Wake now",
  "snooze.until": "Snoozed until {time}",
  "snooze.choose_first": "Choose how long to snooze.",
  "snooze.time_first": "Pick the time to snooze until.",
  "snooze.woken": "Back from snooze: {name}"
};
