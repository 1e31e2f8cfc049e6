export default {
  "snooze.choose": "稍后处理…",
  "snooze.hour": "1 小时后",
  "snooze.tomorrow": "明天 9:00",
  "snooze.pick": "选择时间…",
  "snooze.time": "稍后处理至",
  "snooze.submit": "稍后处理",
  "snooze.wake": "立即恢复",
  "snooze.until": "稍后处理至 {time}",
  "snooze.choose_first": "请选择稍后处理的时长。",
  "snooze.time_first": "请选择恢复的时间。",
  "snooze.woken": "已恢复处理：{name}"
};
