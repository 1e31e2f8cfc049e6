// Wallboard charts with Chart.js (vendored UMD build, window.Chart; /console/vendor/README.md).
// Each chart has a text alternative: a summary sentence and a table for screen readers.
import { h, reconcile, setText } from './render.js';
import { percent, quarters } from './wallboard_model.js';
import { locale, t as tt } from './i18n.js';


function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Chart text follows the page's type, which follows the screen's width (wallboard.css). */
function fontSize() {
  return Math.max(12, Math.round(parseFloat(getComputedStyle(document.body).fontSize) * 0.75));
}

function palette() {
  return {
    text: css('--wb-text'), muted: css('--wb-muted'), grid: css('--wb-grid'),
    answered: css('--wb-answered'), abandoned: css('--wb-abandoned'),
    met: css('--wb-good'), under: css('--wb-bad'), target: css('--wb-text'),
  };
}

/** A category tick of the value axis' chart: long queue names end in an ellipsis. */
function shortLabel(value) {
  const label = String(this.getLabelForValue(value));
  return label.length > 16 ? `${label.slice(0, 15)}…` : label;
}

function axes(colors, y = {}) {
  const ticks = { color: colors.text, font: { size: fontSize() } };
  return {
    x: { ticks: { ...ticks, maxRotation: 0, autoSkip: true, autoSkipPadding: 16 }, grid: { color: colors.grid }, stacked: true },
    y: { ticks: { ...ticks, precision: 0 }, grid: { color: colors.grid }, beginAtZero: true, stacked: true, ...y },
  };
}

export class WallboardCharts {
  constructor(Chart) {
    this.Chart = Chart;
    this.intervals = null;
    this.levels = null;
    Chart.defaults.animation = false; // a wall screen redraws every few seconds; no motion
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.redraw());
    let resized = null;  // a new screen size: new type sizes, so draw the charts again
    window.addEventListener('resize', () => { clearTimeout(resized); resized = setTimeout(() => this.redraw(), 300); });
  }

  redraw() {
    for (const chart of [this.intervals, this.levels]) {
      if (chart) { chart.destroy(); }
    }
    this.intervals = null;
    this.levels = null;
    if (this.lastIntervals) this.showIntervals(...this.lastIntervals);
    if (this.lastLevels) this.showLevels(...this.lastLevels);
  }

  /** rows: /api/kpi/history?by=interval rows of today; zone: the centre's; dayStartMs, nowMs. */
  showIntervals(rows, zone, dayStartMs, nowMs) {
    this.lastIntervals = [rows, zone, dayStartMs, nowMs];
    const byStart = new Map(rows.map((r) => [Date.parse(r.start), r]));
    const firstData = Math.min(...byStart.keys());
    const starts = quarters(dayStartMs, firstData, nowMs);
    const fmt = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: zone || undefined });
    const labels = starts.map((t) => fmt.format(new Date(t)));
    const answered = starts.map((t) => Number(byStart.get(t)?.answered) || 0);
    const abandoned = starts.map((t) => Number(byStart.get(t)?.abandoned) || 0);
    this.intervals = this.upsert(this.intervals, 'chart-intervals', 'bar', labels, [
      { label: tt('wbcharts.answered'), data: answered, backgroundColor: palette().answered },
      { label: tt('wbcharts.abandoned'), data: abandoned, backgroundColor: palette().abandoned },
    ], axes(palette()));
    describeIntervals(starts.map((t, i) => ({ key: t, label: labels[i], answered: answered[i], abandoned: abandoned[i] })));
  }

  /** queues: [{key, label, sl, target}]; horizontal bars, so long queue names stay readable. */
  showLevels(queues) {
    this.lastLevels = [queues];
    const colors = palette();
    const labels = queues.map((q) => q.label);
    const levels = queues.map((q) => (typeof q.sl === 'number' ? Math.round(q.sl * 1000) / 10 : null));
    const targets = queues.map((q) => (typeof q.target === 'number' ? q.target * 100 : null));
    const fill = queues.map((q) => (typeof q.sl === 'number' && q.sl < q.target ? colors.under : colors.met));
    const ticks = { color: colors.text, font: { size: fontSize() } };
    this.levels = this.upsert(this.levels, 'chart-sl', 'bar', labels, [
      { label: tt('wbcharts.service_level'), data: levels, backgroundColor: fill, order: 2, minBarLength: 8 },  // 0 % still shows red
      { label: tt('wbcharts.target'), type: 'line', data: targets, showLine: false, pointStyle: 'line', pointRadius: fontSize(),
        pointRotation: 90, pointBorderWidth: 5, borderColor: colors.target, backgroundColor: colors.target, order: 1 },
    ], {
      x: { min: 0, max: 100, ticks: { ...ticks, stepSize: 25, maxRotation: 0, callback: (v) => `${v} %` },
           grid: { color: colors.grid } },
      y: { ticks: { ...ticks, autoSkip: false, callback: shortLabel }, grid: { display: false } },
    }, { indexAxis: 'y' });
    describeLevels(queues);
  }

  upsert(chart, canvasId, type, labels, datasets, scales, extra = {}) {
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets.forEach((ds, i) => Object.assign(ds, datasets[i]));
      chart.update('none');
      return chart;
    }
    const colors = palette();
    return new this.Chart(document.getElementById(canvasId), {
      type,
      data: { labels, datasets },
      options: {
        responsive: true, maintainAspectRatio: false,
        scales, ...extra,
        plugins: { legend: { labels: { color: colors.text, font: { size: fontSize() } } }, tooltip: { enabled: false } },
      },
    });
  }
}

function describeIntervals(rows) {
  const answered = rows.reduce((n, r) => n + r.answered, 0);
  const abandoned = rows.reduce((n, r) => n + r.abandoned, 0);
  const busiest = rows.reduce((b, r) => (r.answered + r.abandoned > b.answered + b.abandoned ? r : b), rows[0]);
  const peak = busiest && busiest.answered + busiest.abandoned > 0
    ? ` ${tt('wbcharts.busiest', { time: busiest.label })}` : '';
  setText(document.getElementById('chart-intervals-summary'),
    `${tt('wbcharts.summary', { from: rows[0]?.label ?? '', answered, abandoned })}${peak}`);
  reconcile(document.getElementById('chart-intervals-rows'), rows.filter((r) => r.answered || r.abandoned),
    (r) => r.key, () => h('tr', null, h('th', { scope: 'row' }), h('td'), h('td')), (tr, r) => {
      const [from, ans, ab] = tr.children;
      setText(from, r.label);
      setText(ans, r.answered);
      setText(ab, r.abandoned);
    });
}

function describeLevels(queues) {
  const under = queues.filter((q) => typeof q.sl === 'number' && q.sl < q.target).map((q) => q.label);
  setText(document.getElementById('chart-sl-summary'),
    under.length ? tt('wbcharts.under', { queues: under.join(', ') }) : tt('wbcharts.no_queue_is_under_its_target'));
  reconcile(document.getElementById('chart-sl-rows'), queues, (q) => q.key,
    () => h('tr', null, h('th', { scope: 'row' }), h('td'), h('td')), (tr, q) => {
      const [name, level, target] = tr.children;
      setText(name, q.label);
      setText(level, percent(q.sl));
      setText(target, percent(q.target));
    });
}

