// The agreement report: the model's suggestions against people's decisions in this file (and
// against a gold field when one is named): accuracy, Cohen's kappa, macro-F1, per-label
// precision/recall/F1 as a chart and a table, the confusion matrix as a heatmap; between judges,
// correlation and Krippendorff's alpha; between people (each person's decision, by user), Cohen's
// kappa per pair, Fleiss' kappa and Krippendorff's alpha (nominal). The host computes it in the
// core and keeps it live as records are relabeled; this view re-asks when the document changes.
// SVG and DOM built with createElementNS/createElement, every text set as text.
import type { AgreementPayload, ClassificationPayload } from '../../src/shared/protocol';
import { el, formatCount, svg, vsButton } from './dom';
import { sourceName } from './label-sources';
import { LiveView } from './live-view';
import type { HostConnection } from './rpc';

const WIDTH = 560;

export interface AgreementOptions {
  goldField?: string;
}

export interface AgreementCallbacks {
  optionsChanged(o: AgreementOptions): void;
  /** Opens the records of a confusion-matrix cell. */
  openCell(reference: string, prediction: string, refLabel: string, predLabel: string, question: string): void;
}

function shortName(s: string): string {
  if (s === 'human') return 'human';
  if (s === 'suggestion') return 'model';
  if (s === 'label') return 'label';
  if (s.startsWith('field:')) return s.slice('field:'.length);
  return s;
}

const fixed = (x: number | null, d = 3) => (x === null ? 'n/a' : x.toFixed(d));

/** Landis & Koch's reading of kappa. */
export function kappaReading(k: number | null): string {
  if (k === null) return 'undefined: both sides use one single label';
  if (k < 0) return 'worse than chance';
  if (k <= 0.2) return 'slight';
  if (k <= 0.4) return 'fair';
  if (k <= 0.6) return 'moderate';
  if (k <= 0.8) return 'substantial';
  return 'almost perfect';
}

function figure(title: string, value: string, testid: string, hint?: string): HTMLElement {
  return el(
    'div',
    { class: 'stat', title: hint },
    el('strong', { 'data-testid': testid }, value),
    el('span', {}, title),
    hint ? el('span', { class: 'meta' }, hint) : null,
  );
}

/** Per-label precision, recall and F1 as grouped horizontal bars. */
function perLabelChart(m: ClassificationPayload, testid: string): SVGSVGElement {
  const rowH = 13;
  const groupGap = 10;
  const left = 140;
  const right = 56;
  const series: { key: 'precision' | 'recall' | 'f1'; name: string }[] = [
    { key: 'precision', name: 'Precision' },
    { key: 'recall', name: 'Recall' },
    { key: 'f1', name: 'F1' },
  ];
  const legendH = 20;
  const groupH = series.length * rowH + groupGap;
  const height = legendH + m.perLabel.length * groupH + 4;
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`,
    class: 'chart',
    role: 'img',
    'data-testid': testid,
    'aria-label': 'Precision, recall and F1 per label',
  });
  series.forEach((s, k) => {
    const x = left + k * 110;
    chart.append(svg('rect', { x, y: 4, width: 12, height: 10, rx: 2, class: `bar series-${k}` }));
    const t = svg('text', { x: x + 16, y: 13, class: 'chart-label' });
    t.textContent = s.name;
    chart.append(t);
  });
  m.perLabel.forEach((l, i) => {
    const y0 = legendH + i * groupH;
    const name = svg('text', {
      x: left - 8,
      y: y0 + (series.length * rowH) / 2,
      class: 'chart-label',
      'text-anchor': 'end',
      'dominant-baseline': 'middle',
    });
    name.textContent = l.label.length > 20 ? `${l.label.slice(0, 19)}…` : l.label;
    const tip = svg('title');
    tip.textContent = `${l.label}: ${formatCount(l.support)} in the reference`;
    name.append(tip);
    chart.append(name);
    series.forEach((s, k) => {
      const v = l[s.key];
      const w = (WIDTH - left - right) * v;
      const y = y0 + k * rowH;
      const bar = svg('rect', {
        x: left,
        y: y + 1,
        width: Math.max(1, w),
        height: rowH - 3,
        rx: 2,
        class: `bar series-${k}`,
      });
      const bt = svg('title');
      bt.textContent = `${l.label} ${s.name.toLowerCase()}: ${v.toFixed(3)}`;
      bar.append(bt);
      const value = svg('text', {
        x: left + w + 5,
        y: y + rowH / 2,
        class: 'chart-value',
        'dominant-baseline': 'middle',
      });
      value.textContent = v.toFixed(2);
      chart.append(bar, value);
    });
  });
  return chart;
}

export class AgreementView extends LiveView {
  readonly element = el('div', { class: 'stats-view agreement-view', 'data-testid': 'agreement' });
  private readonly gold = el('vscode-textfield', {
    placeholder: 'gold field, e.g. gold_label',
    'aria-label': 'Gold field',
    'data-testid': 'agreement-gold',
    class: 'agreement-gold',
  });
  private readonly body = el('div', { class: 'agreement-body', 'aria-live': 'polite' });
  private readonly state = el('span', { class: 'meta', 'data-testid': 'agreement-state' });
  private seq = 0;
  private options: AgreementOptions;

  constructor(
    private readonly host: HostConnection,
    private readonly cb: AgreementCallbacks,
    options: AgreementOptions = {},
  ) {
    super();
    this.options = { ...options };
    this.gold.value = options.goldField ?? '';
    const apply = vsButton(
      { secondary: '', icon: 'check', 'data-testid': 'agreement-apply', title: 'Compare against this gold field' },
      'Compare',
    );
    const refresh = vsButton(
      { secondary: '', icon: 'refresh', 'data-testid': 'agreement-refresh', title: 'Recompute' },
      'Refresh',
    );
    apply.addEventListener('click', () => this.setGold());
    refresh.addEventListener('click', () => void this.load(true));
    this.gold.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.setGold();
      }
    });
    this.element.append(
      el(
        'div',
        { class: 'agreement-toolbar' },
        el('span', { class: 'meta' }, 'Against a gold field:'),
        this.gold,
        apply,
        refresh,
        this.state,
      ),
      this.body,
    );
  }

  private setGold(): void {
    const g = this.gold.value.trim();
    this.options = g ? { goldField: g } : {};
    this.cb.optionsChanged(this.options);
    void this.load(true);
  }

  async load(force = false): Promise<void> {
    if (!this.stale && !force) return;
    const seq = ++this.seq;
    this.stale = false;
    if (!this.body.childElementCount) this.body.replaceChildren(el('p', { class: 'meta' }, 'Computing agreement…'));
    this.state.textContent = 'Updating…';
    try {
      const r = await this.host.request('getAgreement', {
        question: 'label',
        ...(this.options.goldField ? { goldField: this.options.goldField } : {}),
      });
      if (seq !== this.seq) return;
      this.render(r);
      this.state.textContent = 'Live: updates as you relabel';
    } catch (err) {
      if (seq !== this.seq) return;
      this.stale = true;
      this.state.textContent = '';
      this.body.replaceChildren(
        el(
          'p',
          { class: 'notice notice-error', role: 'alert' },
          `The agreement report failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    }
  }

  private render(r: AgreementPayload): void {
    const parts: HTMLElement[] = [];
    r.comparisons.forEach((c, i) => parts.push(this.comparison(r, c, i)));
    parts.push(this.judges(r));
    parts.push(peopleSection(r));
    this.body.replaceChildren(...parts);
  }

  private comparison(r: AgreementPayload, c: AgreementPayload['comparisons'][number], i: number): HTMLElement {
    const m = c.metrics;
    const title = `${sourceName(c.reference)} vs ${sourceName(c.prediction)}`;
    const summary = el(
      'div',
      { class: 'stats-summary' },
      figure('records compared', formatCount(m.n), `agreement-n-${i}`),
      figure('accuracy', m.accuracy === null ? 'n/a' : `${(m.accuracy * 100).toFixed(1)}%`, `agreement-accuracy-${i}`),
      figure("Cohen's kappa", fixed(m.kappa), `agreement-kappa-${i}`, kappaReading(m.kappa)),
      figure('macro F1', fixed(m.macroF1), `agreement-macro-f1-${i}`),
    );
    const missing = c.missing
      ? el(
          'p',
          { class: 'meta', 'data-testid': `agreement-missing-${i}` },
          `${formatCount(c.missing)} of ${formatCount(r.records)} records lack a label on one side and are not counted.`,
        )
      : null;
    if (m.n === 0) {
      return el(
        'section',
        { class: 'stats-card agreement-card', 'aria-label': title, 'data-testid': `agreement-comparison-${i}` },
        el('h2', { class: 'panel-title' }, title),
        el(
          'p',
          { class: 'meta' },
          `No record has both a ${shortName(c.reference)} label and a ${shortName(c.prediction)} label yet.`,
        ),
        missing,
      );
    }
    const table = el('table', { class: 'metrics-table', 'data-testid': `agreement-per-label-${i}` });
    table.append(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'label'),
          el('th', {}, 'precision'),
          el('th', {}, 'recall'),
          el('th', {}, 'F1'),
          el('th', {}, 'support'),
        ),
      ),
    );
    const tbody = el('tbody');
    for (const l of m.perLabel)
      tbody.append(
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, l.label),
          el('td', {}, l.precision.toFixed(3)),
          el('td', {}, l.recall.toFixed(3)),
          el('td', {}, l.f1.toFixed(3)),
          el('td', {}, formatCount(l.support)),
        ),
      );
    table.append(tbody);
    return el(
      'section',
      { class: 'stats-card agreement-card', 'aria-label': title, 'data-testid': `agreement-comparison-${i}` },
      el('h2', { class: 'panel-title' }, title),
      summary,
      missing,
      el('h3', { class: 'agreement-sub' }, 'Per label'),
      perLabelChart(m, `agreement-chart-${i}`),
      table,
      el('h3', { class: 'agreement-sub' }, 'Confusion matrix'),
      this.confusion(r, c, i),
    );
  }

  private confusion(r: AgreementPayload, c: AgreementPayload['comparisons'][number], i: number): HTMLElement {
    const m = c.metrics;
    const max = Math.max(1, ...m.confusion.flat());
    const maxOff = Math.max(1, ...m.confusion.flatMap((row, a) => row.filter((_, b) => a !== b)));
    const caption = el(
      'caption',
      { class: 'meta' },
      `Rows: ${sourceName(c.reference).toLowerCase()}; columns: ${sourceName(c.prediction).toLowerCase()}. Click a cell to review its records.`,
    );
    const head = el(
      'tr',
      {},
      el('th', { class: 'corner', scope: 'col' }, `${shortName(c.reference)} ↓ · ${shortName(c.prediction)} →`),
    );
    for (const l of m.labels) head.append(el('th', { scope: 'col' }, l));
    head.append(el('th', { scope: 'col', class: 'total' }, 'total'));
    const body = el('tbody');
    m.labels.forEach((ref, a) => {
      const row = el('tr', {}, el('th', { scope: 'row' }, ref));
      const counts = m.confusion[a] ?? [];
      counts.forEach((n, b) => {
        const pred = m.labels[b] as string;
        const cell = el('td', {
          class: `cell${a === b ? ' agree' : n > 0 ? ' disagree' : ''}${n === 0 ? ' zero' : ''}`,
          'data-testid': `agreement-cell-${i}-${a}-${b}`,
          title: `${shortName(c.reference)} ${ref}, ${shortName(c.prediction)} ${pred}: ${formatCount(n)}`,
        });
        // Disagreements are few: shaded against the largest one, and never too faint to see.
        cell.style.setProperty('--heat', String(n === 0 ? 0 : a === b ? n / max : Math.max(0.35, n / maxOff)));
        if (n > 0) {
          const b2 = el('button', { type: 'button', class: 'cell-button' }, formatCount(n));
          b2.addEventListener('click', () => this.cb.openCell(c.reference, c.prediction, ref, pred, r.question));
          cell.append(b2);
        } else cell.append('0');
        row.append(cell);
      });
      row.append(el('td', { class: 'total' }, formatCount(counts.reduce((s, x) => s + x, 0))));
      body.append(row);
    });
    return el(
      'div',
      { class: 'confusion-wrap' },
      el(
        'table',
        { class: 'confusion', 'data-testid': `agreement-confusion-${i}` },
        caption,
        el('thead', {}, head),
        body,
      ),
    );
  }

  private judges(r: AgreementPayload): HTMLElement {
    const j = r.judges;
    const section = el(
      'section',
      { class: 'stats-card agreement-card', 'aria-label': 'Between judges', 'data-testid': 'agreement-judges' },
      el('h2', { class: 'panel-title' }, 'Between judges'),
    );
    if (!j || j.records === 0) {
      section.append(
        el(
          'p',
          { class: 'meta' },
          'No record has two or more judge scores yet (judges[]): judge the file with a second model to compare them.',
        ),
      );
      return section;
    }
    section.append(
      el(
        'div',
        { class: 'stats-summary' },
        figure('records with 2+ judges', formatCount(j.records), 'agreement-judges-records'),
        figure('judges', formatCount(j.raters.length), 'agreement-judges-raters'),
        figure("Krippendorff's alpha (interval)", fixed(j.alpha), 'agreement-judges-alpha'),
      ),
    );
    const table = el('table', { class: 'metrics-table', 'data-testid': 'agreement-judges-pairs' });
    table.append(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'judges'),
          el('th', {}, 'records'),
          el('th', {}, 'Pearson r'),
          el('th', {}, 'Spearman ρ'),
          el('th', {}, 'mean |difference|'),
        ),
      ),
    );
    const tbody = el('tbody');
    for (const p of j.pairs)
      tbody.append(
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, `${p.a} · ${p.b}`),
          el('td', {}, formatCount(p.n)),
          el('td', {}, fixed(p.pearson)),
          el('td', {}, fixed(p.spearman)),
          el('td', {}, fixed(p.meanAbsoluteDifference, 2)),
        ),
      );
    table.append(tbody);
    section.append(table);
    if (j.raters.length >= 2)
      section.append(el('h3', { class: 'agreement-sub' }, 'Pearson r between judges'), correlationMatrix(j));
    return section;
  }
}

/** Between people: who decided how many records, Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha over all. */
function peopleSection(r: AgreementPayload): HTMLElement {
  const p = r.people;
  const section = el(
    'section',
    { class: 'stats-card agreement-card', 'aria-label': 'Between people', 'data-testid': 'agreement-people' },
    el('h2', { class: 'panel-title' }, 'Between people'),
  );
  if (!p || p.people.length < 2) {
    section.append(
      el(
        'p',
        { class: 'meta', 'data-testid': 'agreement-people-none' },
        p?.people.length === 1
          ? `Only ${p.people[0]?.user ?? ''} has decided ${r.question} so far: a second person's decisions (set datasetCurator.annotator, or merge their branch) are compared with theirs here.`
          : `No decision on ${r.question} names its person yet (the setting datasetCurator.annotator, or the git identity): two people's decisions are compared here.`,
      ),
    );
    return section;
  }
  section.append(
    el(
      'div',
      { class: 'stats-summary' },
      figure('people', formatCount(p.people.length), 'agreement-people-count'),
      figure('records decided by 2+', formatCount(p.shared), 'agreement-people-shared'),
      figure('of them differently', formatCount(p.disagreements), 'agreement-people-disagreements'),
      figure("Fleiss' kappa", fixed(p.fleissKappa), 'agreement-people-fleiss', kappaReading(p.fleissKappa)),
      figure("Krippendorff's alpha (nominal)", fixed(p.krippendorffAlpha), 'agreement-people-alpha'),
    ),
  );
  const decided = el('table', { class: 'metrics-table', 'data-testid': 'agreement-people-decided' });
  decided.append(el('thead', {}, el('tr', {}, el('th', {}, 'person'), el('th', {}, 'records decided'))));
  const db = el('tbody');
  for (const x of p.people)
    db.append(el('tr', {}, el('th', { scope: 'row' }, x.user), el('td', {}, formatCount(x.decided))));
  decided.append(db);
  section.append(decided);
  section.append(el('h3', { class: 'agreement-sub' }, "Cohen's kappa per pair"));
  if (p.pairs.length === 0) {
    section.append(el('p', { class: 'meta' }, 'No record was decided by two of them yet.'));
    return section;
  }
  const table = el('table', { class: 'metrics-table', 'data-testid': 'agreement-people-pairs' });
  table.append(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, 'people'),
        el('th', {}, 'records both decided'),
        el('th', {}, 'agreement'),
        el('th', {}, "Cohen's kappa"),
      ),
    ),
  );
  const tbody = el('tbody');
  p.pairs.forEach((x, i) =>
    tbody.append(
      el(
        'tr',
        { 'data-testid': `agreement-people-pair-${i}` },
        el('th', { scope: 'row' }, `${x.a} · ${x.b}`),
        el('td', {}, formatCount(x.n)),
        el('td', {}, x.accuracy === null ? 'n/a' : `${(x.accuracy * 100).toFixed(1)}%`),
        el('td', { title: kappaReading(x.kappa) }, fixed(x.kappa)),
      ),
    ),
  );
  table.append(tbody);
  section.append(table);
  return section;
}

/** Pearson r between every two judges, as a heatmap (1 on the diagonal). */
function correlationMatrix(j: NonNullable<AgreementPayload['judges']>): HTMLElement {
  const r = (a: string, b: string) =>
    a === b ? 1 : (j.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a))?.pearson ?? null);
  const head = el('tr', {}, el('th', { class: 'corner' }, ''));
  for (const a of j.raters) head.append(el('th', { scope: 'col' }, a));
  const body = el('tbody');
  for (const a of j.raters) {
    const row = el('tr', {}, el('th', { scope: 'row' }, a));
    for (const b of j.raters) {
      const v = r(a, b);
      const cell = el('td', { class: 'cell', title: `${a} · ${b}: ${fixed(v)}` }, fixed(v, 2));
      cell.style.setProperty('--heat', String(v === null ? 0 : Math.max(0, v)));
      row.append(cell);
    }
    body.append(row);
  }
  return el(
    'div',
    { class: 'confusion-wrap' },
    el('table', { class: 'confusion', 'data-testid': 'agreement-judges-matrix' }, el('thead', {}, head), body),
  );
}
