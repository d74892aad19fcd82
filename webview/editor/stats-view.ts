// The stats view: label distribution and judge-score histogram as SVG charts (built with
// createElementNS, text set as text), annotated and reviewed shares, and the agreement between
// judges when records have several.
import type { StatsPayload } from '../../src/shared/protocol';
import { el, formatCount, formatPercent, svg, vsButton } from './dom';
import type { HostConnection } from './rpc';

const WIDTH = 520;

/**
 * A chart's values for screen readers: the SVG (role img) carries them in its label, and a table
 * beside it, visually hidden, lists them all (a role img hides the SVG's own texts).
 */
function spoken(title: string, rows: [string, string][]): string {
  const shown = rows.slice(0, 12).map(([k, v]) => `${k}: ${v}`);
  return `${title}. ${rows.length ? `${shown.join('; ')}${rows.length > shown.length ? `; and ${rows.length - shown.length} more` : ''}.` : 'No values.'}`;
}

function valuesTable(caption: string, head: [string, string], rows: [string, string][], testid: string): HTMLElement {
  const table = el(
    'table',
    { class: 'visually-hidden', 'data-testid': testid },
    el('caption', {}, caption),
    el('tr', {}, el('th', { scope: 'col' }, head[0]), el('th', { scope: 'col' }, head[1])),
  );
  for (const [k, v] of rows) table.append(el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, v)));
  return table;
}

function labelRows(labels: Record<string, number>): [string, string][] {
  const entries = Object.entries(labels).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((s, [, n]) => s + n, 0) || 1;
  return entries.map(([label, n]) => [label, `${formatCount(n)} (${formatPercent(n / total)})`]);
}

function histogramRows(buckets: StatsPayload['scoreHistogram']): [string, string][] {
  return buckets.map((b) => [`Score ${b.bucket}`, formatCount(b.count)]);
}

function labelChart(labels: Record<string, number>): SVGSVGElement {
  const entries = Object.entries(labels).sort((a, b) => b[1] - a[1]);
  const rowH = 26;
  const left = 150;
  const right = 70;
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const total = entries.reduce((s, [, n]) => s + n, 0) || 1;
  const height = Math.max(rowH, entries.length * rowH) + 4;
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`,
    class: 'chart',
    role: 'img',
    'data-testid': 'stats-labels',
    'aria-label': spoken('Label distribution', labelRows(labels)),
  });
  entries.forEach(([label, n], i) => {
    const y = i * rowH + 2;
    const w = ((WIDTH - left - right) * n) / max;
    const name = svg('text', {
      x: left - 8,
      y: y + rowH / 2,
      class: 'chart-label',
      'text-anchor': 'end',
      'dominant-baseline': 'middle',
    });
    name.textContent = label.length > 22 ? `${label.slice(0, 21)}…` : label;
    const bar = svg('rect', {
      x: left,
      y: y + 3,
      width: Math.max(1, w),
      height: rowH - 8,
      rx: 2,
      class: `bar series-${i % 6}`,
    });
    const tip = svg('title');
    tip.textContent = `${label}: ${formatCount(n)} (${formatPercent(n / total)})`;
    bar.append(tip);
    const value = svg('text', {
      x: left + w + 6,
      y: y + rowH / 2,
      class: 'chart-value',
      'dominant-baseline': 'middle',
    });
    value.textContent = `${formatCount(n)} · ${formatPercent(n / total)}`;
    chart.append(name, bar, value);
  });
  return chart;
}

function histogram(buckets: StatsPayload['scoreHistogram']): SVGSVGElement {
  const height = 180;
  const bottom = 24;
  const top = 18;
  const gap = 4;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const bw = (WIDTH - gap) / Math.max(1, buckets.length);
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`,
    class: 'chart',
    role: 'img',
    'data-testid': 'stats-histogram',
    'aria-label': spoken('Judge score histogram', histogramRows(buckets)),
  });
  chart.append(svg('line', { x1: 0, x2: WIDTH, y1: height - bottom, y2: height - bottom, class: 'axis' }));
  buckets.forEach((b, i) => {
    const h = ((height - bottom - top) * b.count) / max;
    const x = i * bw + gap;
    const bar = svg('rect', {
      x,
      y: height - bottom - h,
      width: Math.max(1, bw - gap),
      height: Math.max(b.count ? 1 : 0, h),
      rx: 2,
      class: 'bar series-0',
    });
    const tip = svg('title');
    tip.textContent = `Score ${b.bucket}: ${formatCount(b.count)}`;
    bar.append(tip);
    const label = svg('text', { x: x + (bw - gap) / 2, y: height - 6, class: 'chart-label', 'text-anchor': 'middle' });
    label.textContent = b.bucket;
    chart.append(bar, label);
    if (b.count) {
      const value = svg('text', {
        x: x + (bw - gap) / 2,
        y: height - bottom - h - 4,
        class: 'chart-value',
        'text-anchor': 'middle',
      });
      value.textContent = formatCount(b.count);
      chart.append(value);
    }
  });
  return chart;
}

function share(title: string, value: number, testid: string): HTMLElement {
  const fill = el('span', { class: 'meter-fill' });
  fill.style.width = `${Math.max(0, Math.min(100, value * 100))}%`;
  return el(
    'div',
    { class: 'share', 'data-testid': testid },
    el('div', { class: 'share-head' }, el('span', {}, title), el('strong', {}, formatPercent(value))),
    el(
      'span',
      {
        class: 'meter meter-wide',
        role: 'meter',
        'aria-label': title,
        'aria-valuemin': '0',
        'aria-valuemax': '100',
        'aria-valuenow': String(Math.round(value * 100)),
      },
      fill,
    ),
  );
}

const fixed = (v: number | null, digits = 2): string =>
  v === null ? '–' : (Math.abs(v) < 0.5 * 10 ** -digits ? 0 : v).toFixed(digits);

function judgesCard(j: NonNullable<StatsPayload['judges']>, showDisagreements: () => void): HTMLElement {
  const table = el('table', { class: 'stats-table', 'data-testid': 'stats-judges-pairs' });
  table.append(
    el(
      'tr',
      {},
      el('th', {}, 'Judges'),
      el('th', {}, 'Records'),
      el('th', {}, 'Pearson'),
      el('th', {}, 'Spearman'),
      el('th', {}, 'Mean abs. difference'),
    ),
  );
  for (const p of j.pairs) {
    table.append(
      el(
        'tr',
        { 'data-testid': 'stats-judges-pair' },
        el('td', {}, `${p.a} · ${p.b}`),
        el('td', {}, formatCount(p.n)),
        el('td', {}, fixed(p.pearson)),
        el('td', {}, fixed(p.spearman)),
        el('td', {}, fixed(p.meanAbsoluteDifference)),
      ),
    );
  }
  const show = vsButton({ secondary: '', icon: 'search', 'data-testid': 'stats-show-disagreements' }, 'Show them');
  show.addEventListener('click', showDisagreements);
  return el(
    'section',
    { class: 'stats-card', 'aria-label': 'Agreement between judges', 'data-testid': 'stats-judges' },
    el('h2', { class: 'panel-title' }, 'Agreement between judges'),
    el(
      'div',
      { class: 'stats-summary' },
      el(
        'div',
        { class: 'stat' },
        el('strong', {}, formatCount(j.records)),
        el('span', {}, `records with ${j.raters.length > 2 ? 'several' : 'two'} judges`),
      ),
      el(
        'div',
        { class: `stat${j.disagree ? ' stat-bad' : ''}` },
        el('strong', { 'data-testid': 'stats-judges-disagree' }, formatCount(j.disagree)),
        el('span', {}, `disagree (spread ≥ ${formatPercent(j.threshold)} of the scale)`),
      ),
      el(
        'div',
        { class: 'stat' },
        el('strong', { 'data-testid': 'stats-judges-alpha' }, fixed(j.alpha)),
        el('span', {}, "Krippendorff's alpha"),
      ),
      j.disagree ? show : null,
    ),
    table,
  );
}

/** Human-written vs machine-generated (annotations.origin): the survey's model-collapse warning sign. */
function originCard(s: StatsPayload): HTMLElement {
  const human = s.records ? 1 - s.generatedShare : 0;
  return el(
    'section',
    { class: 'stats-card', 'aria-label': 'Origin', 'data-testid': 'stats-origin' },
    el('h2', { class: 'panel-title' }, 'Origin'),
    share('Human-written', human, 'stats-human'),
    share('Machine-generated', s.generatedShare, 'stats-generated'),
    s.generatedShare > 0.5
      ? el(
          'p',
          { class: 'notice notice-warning', 'data-testid': 'stats-collapse-warning' },
          'Most records are machine-generated. Models trained mostly on generated data can degrade (model collapse): keep human-written data in the mix.',
        )
      : el(
          'p',
          { class: 'meta' },
          `${formatCount(s.generated)} of ${formatCount(s.records)} records are marked machine-generated (annotations.origin); the rest count as human-written.`,
        ),
  );
}

export class StatsView {
  readonly element = el('div', { class: 'stats-view', 'data-testid': 'stats' });
  private seq = 0;
  private stale = true;

  constructor(
    private readonly host: HostConnection,
    private readonly showDisagreements: () => void = () => {},
  ) {}

  invalidate(): void {
    this.stale = true;
  }

  async load(force = false): Promise<void> {
    if (!this.stale && !force) return;
    const seq = ++this.seq;
    if (!this.element.childElementCount)
      this.element.replaceChildren(el('p', { class: 'meta' }, 'Computing statistics…'));
    try {
      const s = await this.host.request('getStats', {});
      if (seq !== this.seq) return;
      this.stale = false;
      this.render(s);
    } catch (err) {
      if (seq !== this.seq) return;
      this.element.replaceChildren(
        el(
          'p',
          { class: 'notice notice-error', role: 'alert' },
          `Statistics failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    }
  }

  private render(s: StatsPayload): void {
    const refresh = vsButton({ secondary: '', icon: 'refresh', 'data-testid': 'stats-refresh' }, 'Refresh');
    refresh.addEventListener('click', () => void this.load(true));
    const summary = el(
      'div',
      { class: 'stats-summary' },
      el(
        'div',
        { class: 'stat' },
        el('strong', { 'data-testid': 'stats-records' }, formatCount(s.records)),
        el('span', {}, 'records'),
      ),
      el(
        'div',
        { class: `stat${s.invalid ? ' stat-bad' : ''}` },
        el('strong', { 'data-testid': 'stats-invalid' }, formatCount(s.invalid)),
        el('span', {}, 'invalid'),
      ),
      el(
        'div',
        { class: 'stat' },
        el('strong', {}, s.meanScore === undefined ? '–' : s.meanScore.toFixed(2)),
        el('span', {}, 'mean judge score'),
      ),
      refresh,
    );
    const labels = Object.keys(s.labels).length ? labelChart(s.labels) : el('p', { class: 'meta' }, 'No labels yet.');
    const hist = s.scoreHistogram.length
      ? histogram(s.scoreHistogram)
      : el('p', { class: 'meta' }, 'No judge scores yet.');
    const labelValues = Object.keys(s.labels).length
      ? valuesTable('Label distribution', ['Label', 'Records'], labelRows(s.labels), 'stats-labels-table')
      : null;
    const histValues = s.scoreHistogram.length
      ? valuesTable('Judge scores', ['Score', 'Records'], histogramRows(s.scoreHistogram), 'stats-histogram-table')
      : null;
    const cards: (HTMLElement | null)[] = [
      summary,
      el(
        'section',
        { class: 'stats-card', 'aria-label': 'Label distribution' },
        el('h2', { class: 'panel-title' }, 'Label distribution'),
        labels,
        labelValues,
      ),
      el(
        'section',
        { class: 'stats-card', 'aria-label': 'Judge scores' },
        el('h2', { class: 'panel-title' }, 'Judge scores'),
        hist,
        histValues,
      ),
      s.judges ? judgesCard(s.judges, this.showDisagreements) : null,
      el(
        'section',
        { class: 'stats-card', 'aria-label': 'Progress' },
        el('h2', { class: 'panel-title' }, 'Progress'),
        share('Annotated', s.annotatedShare, 'stats-annotated'),
        share('Reviewed', s.reviewedShare, 'stats-reviewed'),
      ),
      originCard(s),
    ];
    this.element.replaceChildren(...cards.filter((x): x is HTMLElement => x !== null));
  }
}
