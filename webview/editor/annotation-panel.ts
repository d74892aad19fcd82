// The annotation beside the record: label chip, relabel buttons, model suggestions with their
// scores, agents, rationales and provenance (a self-consistency vote with its samples), the
// rationale and who wrote it, every judge side by side (score, criteria, reasons, provenance) with
// their agreement and a "judges disagree" marker, a critique's refined version beside the original,
// the review status, and warnings. All text from the record is set as text.
import type {
  AnnotationView,
  DocumentInfo,
  JudgeView,
  OriginView,
  ProvenanceView,
  RecordPayload,
  SuggestionView,
} from '../../src/shared/protocol';
import { type Child, el, formatPercent, icon, vsButton } from './dom';
import type { QuestionsView } from './questions-view';

export interface PanelActions {
  relabel(label: string): void;
  accept(question: string, position: number): void;
  reject(question: string): void;
  setReviewStatus(status: string): void;
  editRaw(): void;
  setAutoAdvance(on: boolean): void;
}

/** JSON.stringify, typed as it behaves: undefined for undefined, a function or a symbol. */
function jsonText(v: unknown): string | undefined {
  return JSON.stringify(v);
}

function displayValue(v: unknown): string {
  return typeof v === 'string' ? v : (jsonText(v) ?? String(v));
}

/** Where a score sits on its scale, 0..1. */
function relative(score: number, scale: readonly [number, number]): number {
  const [lo, hi] = scale;
  if (hi <= lo) return 0;
  return Math.max(0, Math.min(1, (score - lo) / (hi - lo)));
}

function grade(p: number): 'good' | 'fair' | 'poor' {
  return p >= 0.7 ? 'good' : p >= 0.4 ? 'fair' : 'poor';
}

function judgeScale(j: JudgeView): [number, number] {
  if (j.scale) return [j.scale[0], j.scale[1]];
  const s = j.score ?? 0;
  return s <= 1 ? [0, 1] : s <= 5 ? [1, 5] : [1, 10];
}

/** Criteria are often scored on their own, smaller scale than the overall score. */
function criteriaScale(values: number[], judge: [number, number]): [number, number] {
  const max = Math.max(...values);
  if (max <= 1) return [0, 1];
  if (max <= 5 && judge[1] > 5) return [1, 5];
  return judge;
}

function meter(p: number, cls: string, label: string): HTMLElement {
  p = Math.max(0, Math.min(1, p));
  const fill = el('span', { class: 'meter-fill' });
  fill.style.width = `${Math.round(p * 1000) / 10}%`;
  return el(
    'span',
    {
      class: `meter ${cls}`,
      role: 'meter',
      'aria-label': label,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(Math.round(p * 100)),
    },
    fill,
  );
}

/** A score as a badge coloured by where it sits on its scale, and what follows it. */
function judgeHead(
  score: number,
  scale: [number, number],
  what: string,
  testid: boolean,
  ...after: Child[]
): HTMLElement {
  const g = grade(relative(score, scale));
  return el(
    'div',
    { class: 'judge-head' },
    el(
      'span',
      {
        class: `judge-badge grade-${g}`,
        ...(testid ? { 'data-testid': 'judge-score' } : {}),
        'aria-label': `${what} ${formatScore(score)} of ${scale[1]} (${g})`,
      },
      `${formatScore(score)} / ${scale[1]}`,
    ),
    ...after,
  );
}

function section(title: string, testid: string, ...children: Child[]): HTMLElement {
  return el(
    'section',
    { class: 'panel-section', 'data-testid': testid, 'aria-label': title },
    el('h2', { class: 'panel-title' }, title),
    ...children,
  );
}

function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
        .replace(/Z$/, ' UTC');
}

/** Model, prompt hash, time and tokens as a definition list (nothing when none is known). */
function provenanceList(p: ProvenanceView | undefined): HTMLElement | null {
  if (!p) return null;
  const rows: [string, string][] = [];
  if (p.model) rows.push(['Model', p.model]);
  if (p.promptHash) rows.push(['Prompt', p.promptHash]);
  if (p.time) rows.push(['Time', formatTime(p.time)]);
  if (p.inputTokens !== undefined || p.outputTokens !== undefined)
    rows.push(['Tokens', `${p.inputTokens ?? '?'} in · ${p.outputTokens ?? '?'} out`]);
  if (!rows.length) return null;
  const dl = el('dl', { class: 'provenance', 'data-testid': 'provenance' });
  for (const [k, v] of rows) {
    // A prompt hash is for telling prompts apart: its start is enough on screen, the whole in the tooltip.
    const short = k === 'Prompt' && v.length > 23 ? `${v.slice(0, 23)}…` : v;
    dl.append(el('dt', {}, k), el('dd', short === v ? {} : { title: v }, short));
  }
  return dl;
}

/** A number as the panel writes it: integers as they are, others with up to two decimals. */
function formatScore(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

/** The text of a record's field, for showing an original beside its refined version. */
function fieldText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v))
    return v
      .map((x) => {
        if (!(x && typeof x === 'object' && 'content' in x)) return fieldText(x);
        const role = (x as { role?: unknown }).role;
        return `${role === undefined || role === null ? '' : displayValue(role)}: ${fieldText((x as { content: unknown }).content)}`;
      })
      .join('\n');
  return JSON.stringify(v, null, 2);
}

export class AnnotationPanel {
  readonly element = el('aside', {
    class: 'annotation-panel',
    'data-testid': 'annotation-panel',
    'aria-label': 'Annotation',
  });

  constructor(
    private readonly actions: PanelActions,
    /** The dataset's declared questions, shown after the label (none declared: nothing). */
    private readonly questions?: QuestionsView,
  ) {}

  render(r: RecordPayload | undefined, info: DocumentInfo | undefined, autoAdvance: boolean): void {
    if (!r) {
      this.element.replaceChildren();
      return;
    }
    const a = r.annotation;
    const structured = !r.invalid && !r.lossy;
    const parts: Child[] = [];

    // Warnings and markers.
    const flags: Child[] = [];
    if (r.invalid)
      flags.push(
        el(
          'div',
          { class: 'notice notice-error', 'data-testid': 'invalid', role: 'alert' },
          icon('error'),
          el('span', {}, `Invalid line: ${r.invalid.reason}`),
        ),
      );
    if (r.lossy)
      flags.push(
        el(
          'div',
          { class: 'notice notice-warning', 'data-testid': 'lossy' },
          icon('warning'),
          el('span', {}, `Structured edits are off: ${r.lossy.reason}. Edit the raw JSON instead.`),
        ),
      );
    if (r.edited)
      flags.push(
        el(
          'div',
          { class: 'notice notice-info', 'data-testid': 'edited' },
          icon('circle-filled'),
          el('span', {}, 'Edited (unsaved)'),
        ),
      );
    parts.push(...flags);

    // Label, review status and the relabel buttons.
    const labelChip =
      a?.label !== undefined
        ? el('span', { class: 'chip chip-label', 'data-testid': 'label' }, a.label)
        : el('span', { class: 'chip chip-none', 'data-testid': 'label' }, 'unlabeled');
    const status = a?.reviewStatus;
    const statusChip = el(
      'span',
      {
        class: `chip chip-status status-${status === 'reviewed' || status === 'rejected' || status === 'pending' ? status : 'other'}`,
        'data-testid': 'review-status',
      },
      status ?? 'no review status',
    );
    const who = a?.human
      ? el(
          'div',
          { class: 'meta' },
          `Human decision${a.human.user ? ` by ${a.human.user}` : ''}${a.human.time ? ` · ${formatTime(a.human.time)}` : ''}${a.human.status ? ` · ${a.human.status}` : ''}`,
        )
      : null;

    const labels = info?.labels ?? [];
    const buttons = el('div', { class: 'relabel', role: 'group', 'aria-label': 'Relabel' });
    labels.forEach((label, i) => {
      const current = a?.label === label;
      const b = vsButton({
        'data-testid': `relabel-${label}`,
        'data-label': label,
        title: i < 9 ? `Relabel as ${label} (${i + 1})` : `Relabel as ${label}`,
        'aria-pressed': current ? 'true' : 'false',
      });
      if (!current) b.setAttribute('secondary', '');
      if (!structured) b.setAttribute('disabled', '');
      if (i < 9) b.append(el('span', { class: 'key-hint', 'aria-hidden': 'true' }, String(i + 1)));
      b.append(label);
      b.addEventListener('click', () => this.actions.relabel(label));
      buttons.append(b);
    });
    const advance = el('vscode-checkbox', {
      'data-testid': 'auto-advance',
      label: 'Go to the next record after relabeling',
    });
    advance.checked = autoAdvance;
    advance.addEventListener('change', () => this.actions.setAutoAdvance(advance.checked));
    parts.push(
      section(
        'Label',
        'label-section',
        el('div', { class: 'chips' }, labelChip, statusChip),
        who,
        labels.length
          ? buttons
          : r.questions?.length
            ? null
            : el('div', { class: 'meta' }, 'No label set: configure datasetCurator.labels.'),
        labels.length ? advance : null,
      ),
    );

    // The declared questions, each with its decision beside its suggestions.
    if (this.questions) {
      this.questions.render(r, structured);
      if (r.questions?.length) parts.push(this.questions.element);
    }
    const declared = new Set((r.questions ?? []).map((q) => q.question.name));

    // Suggestions (labels and self-consistency votes); critiques and rationales have their own places.
    const all = a?.suggestions ?? [];
    const suggestions = all.filter((s) => s.task !== 'critique' && s.task !== 'rationale' && !declared.has(s.question));
    if (suggestions.length) {
      const labelSuggestion = suggestions.find((s) => s.type === 'model' && s.question === 'label');
      const top = el('div', { class: 'actions' });
      if (labelSuggestion) {
        const acc = vsButton(
          { 'data-testid': 'accept', icon: 'check', title: 'Accept the model suggestion (a)' },
          'Accept',
        );
        const rej = vsButton(
          { 'data-testid': 'reject', icon: 'close', secondary: '', title: 'Reject the model suggestion (r)' },
          'Reject',
        );
        if (!structured) {
          acc.setAttribute('disabled', '');
          rej.setAttribute('disabled', '');
        }
        acc.addEventListener('click', () => this.actions.accept(labelSuggestion.question, labelSuggestion.position));
        rej.addEventListener('click', () => this.actions.reject(labelSuggestion.question));
        top.append(acc, rej);
      }
      parts.push(section('Suggestions', 'suggestions', top, ...suggestions.map((s) => this.suggestion(s, structured))));
    }

    if (a?.rationale) {
      const by = a.rationaleProvenance;
      parts.push(
        section(
          'Rationale',
          'rationale',
          el('p', { class: 'prose' }, a.rationale),
          by
            ? el(
                'div',
                { class: 'meta', 'data-testid': 'rationale-by' },
                `Written by ${by.model ?? 'a model'}${by.time ? ` · ${formatTime(by.time)}` : ''}`,
              )
            : null,
        ),
      );
    }
    if (r.origin) parts.push(this.origin(r.origin));
    if (a) {
      const judges = this.judges(a);
      if (judges) parts.push(judges);
    }
    for (const c of all.filter((s) => s.task === 'critique')) parts.push(this.critique(c, r.value));

    // Review and raw editing.
    const reviewed = status === 'reviewed';
    const mark = vsButton(
      { secondary: '', 'data-testid': 'mark-reviewed', icon: reviewed ? 'circle-large-outline' : 'pass' },
      reviewed ? 'Mark pending' : 'Mark reviewed',
    );
    if (!structured) mark.setAttribute('disabled', '');
    mark.addEventListener('click', () => this.actions.setReviewStatus(reviewed ? 'pending' : 'reviewed'));
    const raw = vsButton(
      { secondary: '', 'data-testid': 'edit-raw', icon: 'json', title: 'Edit the raw line (e)' },
      'Edit raw JSON',
    );
    raw.addEventListener('click', () => this.actions.editRaw());
    parts.push(section('Review', 'review', el('div', { class: 'actions' }, mark, raw)));

    this.element.replaceChildren(...parts.filter((p): p is Node => !!p && typeof p !== 'string'));
  }

  private suggestion(s: SuggestionView, structured: boolean): HTMLElement {
    const what = s.task === 'consistency' ? 'Agreement' : 'Confidence';
    const score =
      s.score !== undefined
        ? el('span', { class: 'score', 'data-testid': 'suggestion-score', title: what }, formatPercent(s.score))
        : null;
    const head = el(
      'div',
      { class: 'suggestion-head' },
      el('span', { class: 'chip chip-suggestion' }, displayValue(s.value)),
      score,
      s.score !== undefined ? meter(s.score, 'meter-score', `${what} ${formatPercent(s.score)}`) : null,
    );
    const vote = s.task === 'consistency';
    const meta = el(
      'div',
      { class: 'meta' },
      `${s.question} · ${vote ? 'self-consistency vote' : s.type}${s.agent ? ` · ${s.agent}` : ''}`,
    );
    const card = el(
      'div',
      { class: 'suggestion', 'data-testid': vote ? 'consistency' : 'suggestion', 'data-position': String(s.position) },
      head,
      meta,
    );
    if (s.rationale) card.append(el('p', { class: 'prose' }, s.rationale));
    if (vote && s.samples?.length) card.append(this.samples(s));
    const prov = provenanceList(s.provenance);
    if (prov) card.append(prov);
    if (s.type === 'model' && (s.position > 0 || s.question !== 'label')) {
      const acc = vsButton(
        { secondary: '', icon: 'check', 'data-testid': `accept-${s.question}-${s.position}` },
        'Accept this',
      );
      if (!structured) acc.setAttribute('disabled', '');
      acc.addEventListener('click', () => this.actions.accept(s.question, s.position));
      card.append(acc);
    }
    return card;
  }

  /** The k samples of a self-consistency vote: how many said what, and each one's reason. */
  private samples(s: SuggestionView): HTMLElement {
    const samples = s.samples ?? [];
    const counts = new Map<string, number>();
    for (const x of samples) counts.set(displayValue(x.value), (counts.get(displayValue(x.value)) ?? 0) + 1);
    const tally = el(
      'div',
      { class: 'chips', 'data-testid': 'consistency-samples', 'aria-label': `${samples.length} samples` },
      ...[...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([v, n]) => el('span', { class: 'chip chip-sample' }, `${v} ×${n}`)),
    );
    const list = el('ol', { class: 'samples' });
    for (const x of samples)
      list.append(
        el(
          'li',
          {},
          el('strong', {}, displayValue(x.value)),
          x.score !== undefined ? ` (${formatPercent(x.score)})` : '',
          x.rationale ? ` ${x.rationale}` : '',
        ),
      );
    return el(
      'div',
      {},
      tally,
      el('details', { class: 'samples-details' }, el('summary', {}, `The ${samples.length} samples`), list),
    );
  }

  /** The judges: one verdict, or every judge of the panel side by side with their agreement. */
  private judges(a: AnnotationView): HTMLElement | null {
    const panel = a.judges;
    const verdict = a.judge;
    if (!verdict && panel.length === 0) return null;
    const children: Child[] = [];
    if (panel.length <= 1) {
      children.push(...this.verdict(panel[0] ?? verdict ?? {}, true));
    } else {
      const j = verdict ?? {};
      const scale = judgeScale(panel[0] ?? j);
      if (j.score !== undefined)
        children.push(
          judgeHead(
            j.score,
            scale,
            'Mean judge score',
            true,
            el('span', { class: 'meta' }, `mean of ${panel.length} judges`),
          ),
        );
      const ag = a.judgeAgreement;
      if (ag) {
        const share =
          ag.relativeSpread !== undefined
            ? ` (${formatPercent(ag.relativeSpread)} of the ${scale[0]}–${scale[1]} scale)`
            : '';
        children.push(
          el(
            'div',
            { class: 'meta', 'data-testid': 'judges-agreement' },
            `Spread ${formatScore(ag.spread)}${share} · standard deviation ${formatScore(ag.stdev)}`,
          ),
        );
        if (ag.disagree) {
          children.push(
            el(
              'div',
              { class: 'notice notice-warning', 'data-testid': 'judges-disagree', role: 'status' },
              icon('warning'),
              el(
                'span',
                {},
                `Judges disagree: their scores differ by ${formatScore(ag.spread)}${share}, at or above the threshold of ${formatPercent(ag.threshold)}.`,
              ),
            ),
          );
        } else
          children.push(
            el('div', { class: 'meta judges-agree', 'data-testid': 'judges-agree' }, icon('pass'), ' Judges agree'),
          );
      }
      const cards = el('div', { class: 'judge-cards', 'data-testid': 'judge-cards' });
      for (const one of panel)
        cards.append(
          el(
            'div',
            { class: 'judge-card', 'data-testid': 'judge-card', 'data-model': one.model ?? '' },
            ...this.verdict(one, false),
          ),
        );
      children.push(cards);
    }
    const others = a.otherJudges;
    if (others.length) {
      const list = el('div', { class: 'judge-cards' });
      for (const one of others)
        list.append(
          el(
            'div',
            { class: 'judge-card judge-card-old', 'data-testid': 'judge-card-old' },
            ...this.verdict(one, false),
          ),
        );
      children.push(
        el(
          'details',
          { class: 'samples-details', 'data-testid': 'other-judges' },
          el(
            'summary',
            {},
            `${others.length} earlier ${others.length === 1 ? 'verdict' : 'verdicts'} (another rubric or prompt)`,
          ),
          list,
        ),
      );
    }
    return section(panel.length > 1 ? 'Judges' : 'Judge', 'judge', ...children);
  }

  /** Machine-generated (by which task, model, round...) or human-written. */
  private origin(o: OriginView): HTMLElement {
    const chip = el(
      'span',
      {
        class: `chip chip-status ${o.type === 'model' ? 'status-pending' : 'status-reviewed'}`,
        'data-testid': 'origin-type',
      },
      o.type === 'model' ? 'machine-generated' : 'human-written',
    );
    const rows: [string, string][] = [];
    if (o.task) rows.push(['Task', o.task]);
    if (o.models?.length) rows.push(['Models', o.models.join(', ')]);
    else if (o.model) rows.push(['Model', o.model]);
    if (o.judgeModel) rows.push(['Judge', o.judgeModel]);
    if (o.round !== undefined) rows.push(['Round', String(o.round)]);
    if (o.evolution) rows.push(['Evolved', o.evolution]);
    if (o.persona) rows.push(['Persona', o.persona]);
    if (o.promptHash) rows.push(['Prompt', o.promptHash]);
    if (o.time) rows.push(['Time', formatTime(o.time)]);
    const dl = el('dl', { class: 'provenance' });
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
    return section('Origin', 'origin', el('div', { class: 'chips' }, chip), rows.length ? dl : null);
  }

  /** One judge's verdict: score badge, model, reasons, per-criterion scores, provenance. */
  private verdict(j: JudgeView, main: boolean): Child[] {
    const scale = judgeScale(j);
    const children: Child[] = [];
    const model = j.model
      ? el('span', { class: main ? 'meta' : 'judge-model', 'data-testid': 'judge-model' }, j.model)
      : null;
    if (j.score !== undefined)
      children.push(judgeHead(j.score, scale, j.model ? `${j.model}: score` : 'Judge score', main, model));
    else if (model) children.push(el('div', { class: 'meta' }, model));
    if (j.reasons) children.push(el('p', { class: 'prose' }, j.reasons));
    const criteria = Object.entries(j.criteria ?? {});
    if (criteria.length) {
      const cs = criteriaScale(
        criteria.map(([, v]) => v),
        scale,
      );
      const list = el('div', { class: 'criteria', 'data-testid': 'criteria' });
      for (const [name, v] of criteria) {
        const p = relative(v, cs);
        list.append(
          el(
            'div',
            { class: 'criterion' },
            el('span', { class: 'criterion-name' }, name),
            meter(p, `grade-${grade(p)}`, `${name}: ${v} of ${cs[1]}`),
            el('span', { class: 'criterion-value' }, formatScore(v)),
          ),
        );
      }
      children.push(list);
    }
    if (!main || j.provenance?.promptHash) children.push(provenanceList(j.provenance));
    return children;
  }

  /** A critique: the feedback, then the original field and the refined version side by side. */
  private critique(s: SuggestionView, value: Record<string, unknown> | undefined): HTMLElement {
    const original = fieldText(value?.[s.question]);
    return section(
      `Critique of ${s.question}`,
      'critique',
      el('div', { class: 'meta' }, `critique and refine${s.agent ? ` · ${s.agent}` : ''}`),
      s.rationale ? el('p', { class: 'prose', 'data-testid': 'critique-text' }, s.rationale) : null,
      el(
        'div',
        { class: 'compare' },
        el(
          'div',
          { class: 'compare-side' },
          el('h3', { class: 'compare-title' }, 'Original'),
          el('pre', { class: 'compare-text', 'data-testid': 'critique-original' }, original || '(empty)'),
        ),
        el(
          'div',
          { class: 'compare-side' },
          el('h3', { class: 'compare-title' }, 'Refined'),
          el('pre', { class: 'compare-text', 'data-testid': 'critique-refined' }, displayValue(s.value)),
        ),
      ),
      provenanceList(s.provenance),
    );
  }
}
