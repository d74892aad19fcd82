// Duplicate clusters for review: how to look (exact, near, semantic, with the core's options), then
// each cluster's records side by side, with the one kept chosen (the core's pick by default), and
// per cluster or for all: tag the others as duplicates, or delete them (one undoable edit each).
// A click on a record's line number opens it. Clusters come from the host a page at a time.
import type { DuplicateClusterPayload, DuplicateSearch, DuplicatesPayload } from '../../src/shared/protocol';
import { append, el, formatCount, icon, vsButton } from './dom';
import { LiveView } from './live-view';
import type { HostConnection } from './rpc';

const PAGE = 50;

export interface DuplicatesCallbacks {
  open(index: number): void;
  message(text: string, error?: boolean): void;
}

function similarity(x: number): string {
  return x === 1 ? '1' : x.toFixed(2);
}

export class DuplicatesView extends LiveView {
  readonly element = el('div', { class: 'stats-view duplicates-view', 'data-testid': 'duplicates' });
  private readonly method = el('vscode-single-select', {
    'aria-label': 'How alike',
    'data-testid': 'dup-method',
    class: 'search-select',
  });
  private readonly threshold = el('vscode-textfield', {
    type: 'number',
    min: '0.01',
    max: '1',
    step: '0.01',
    placeholder: 'threshold',
    'aria-label': 'Similarity threshold',
    'data-testid': 'dup-threshold',
    class: 'search-score',
  });
  private readonly field = el('vscode-textfield', {
    placeholder: 'field (default: text)',
    'aria-label': 'Field compared',
    'data-testid': 'dup-field',
    class: 'dup-field',
  });
  private readonly model = el('vscode-textfield', {
    placeholder: 'embeddings model (default: setting)',
    'aria-label': 'Embeddings model',
    'data-testid': 'dup-model',
    class: 'dup-field',
    hidden: '',
  });
  private readonly strip = el('vscode-checkbox', { label: 'Ignore punctuation', 'data-testid': 'dup-strip' });
  private readonly shingle = el('vscode-single-select', {
    'aria-label': 'Shingles',
    'data-testid': 'dup-shingle',
    class: 'search-select',
  });
  private readonly best = el('vscode-checkbox', {
    label: 'Keep the best judge score',
    title: 'Keep the member with the highest judge score (else the first)',
    'data-testid': 'dup-keep-best',
  });
  private readonly summary = el('div', { class: 'dup-summary', 'data-testid': 'dup-summary', 'aria-live': 'polite' });
  private readonly list = el('div', { class: 'dup-list', 'data-testid': 'dup-list' });
  private readonly more = vsButton(
    { secondary: '', icon: 'chevron-down', 'data-testid': 'dup-more', hidden: '' },
    'Show more clusters',
  );
  private data: DuplicatesPayload | undefined;
  private clusters: DuplicateClusterPayload[] = [];
  /** The record kept per cluster, when the user chose another than the representative. */
  private readonly keep = new Map<number, number>();
  private busy = false;
  private seq = 0;

  constructor(
    private readonly host: HostConnection,
    private readonly cb: DuplicatesCallbacks,
  ) {
    super();
    this.method.append(
      el('vscode-option', { value: 'exact' }, 'Exact (normalized text)'),
      el('vscode-option', { value: 'near' }, 'Near (MinHash + LSH)'),
      el('vscode-option', { value: 'semantic' }, 'Semantic (embeddings)'),
    );
    this.method.value = 'near';
    this.shingle.append(
      el('vscode-option', { value: 'words' }, '5-word shingles'),
      el('vscode-option', { value: 'chars' }, '7-character shingles (CJK, short texts)'),
    );
    this.shingle.value = 'words';
    this.method.addEventListener('change', () => this.syncForm());
    const find = vsButton({ icon: 'search', 'data-testid': 'dup-find' }, 'Find duplicates');
    find.addEventListener('click', () => void this.find());
    this.more.addEventListener('click', () => void this.loadMore());
    const form = el(
      'div',
      { class: 'agreement-toolbar', role: 'group', 'aria-label': 'How to look for duplicates' },
      this.method,
      this.threshold,
      this.shingle,
      this.field,
      this.model,
      this.strip,
      this.best,
      find,
    );
    this.element.append(form, this.summary, this.list, this.more);
    this.syncForm();
  }

  private syncForm(): void {
    const m = this.method.value;
    this.threshold.hidden = m === 'exact';
    this.strip.hidden = m !== 'exact';
    this.shingle.hidden = m !== 'near';
    this.model.hidden = m !== 'semantic';
    this.threshold.placeholder = m === 'semantic' ? 'cosine, e.g. 0.92' : 'Jaccard, e.g. 0.8';
  }

  private search(): DuplicateSearch | string {
    const method = this.method.value as DuplicateSearch['method'];
    const s: DuplicateSearch = { method };
    if (this.field.value.trim()) s.field = this.field.value.trim();
    if (method !== 'exact' && this.threshold.value !== '') {
      const t = Number(this.threshold.value);
      if (!(t > 0 && t <= 1)) return 'The threshold is a number above 0, at most 1';
      s.threshold = t;
    }
    if (method === 'exact' && this.strip.checked) s.stripPunctuation = true;
    if (method === 'semantic' && this.model.value.trim()) s.embeddingModel = this.model.value.trim();
    if (method === 'near' && this.shingle.value === 'chars') s.shingle = 'chars';
    if (this.best.checked) s.keep = 'highest-score';
    return s;
  }

  async load(force = false): Promise<void> {
    if ((!this.stale && !force) || this.busy) return;
    const seq = ++this.seq;
    this.stale = false;
    try {
      const d = await this.host.request('getDuplicates', { offset: 0, limit: Math.max(PAGE, this.clusters.length) });
      if (seq !== this.seq) return;
      this.show(d);
    } catch (err) {
      if (seq !== this.seq) return;
      this.stale = true;
      this.summary.replaceChildren(
        el('p', { class: 'notice notice-error', role: 'alert' }, err instanceof Error ? err.message : String(err)),
      );
    }
  }

  private async find(): Promise<void> {
    const s = this.search();
    if (typeof s === 'string') {
      this.cb.message(s, true);
      return;
    }
    this.busy = true;
    const seq = ++this.seq;
    this.summary.replaceChildren(
      el(
        'p',
        { class: 'meta' },
        icon('loading', 'codicon-modifier-spin'),
        ' Looking for duplicates… (progress and cancel in the notification)',
      ),
    );
    try {
      const d = await this.host.request('findDuplicates', s);
      if (seq !== this.seq) return;
      this.keep.clear();
      this.show(d);
    } catch (err) {
      if (seq !== this.seq) return;
      this.summary.replaceChildren(
        el('p', { class: 'notice notice-error', role: 'alert' }, err instanceof Error ? err.message : String(err)),
      );
    } finally {
      this.busy = false;
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.data) return;
    const d = await this.host.request('getDuplicates', { offset: this.clusters.length, limit: PAGE });
    if (!d) return;
    this.clusters.push(...d.page);
    this.data = d;
    this.renderList();
  }

  private show(d: DuplicatesPayload | null): void {
    this.data = d ?? undefined;
    this.clusters = d ? [...d.page] : [];
    if (d) {
      this.method.value = d.search.method;
      this.field.value = d.search.field ?? '';
      this.threshold.value = d.search.threshold !== undefined ? String(d.search.threshold) : '';
      this.shingle.value = d.search.shingle ?? 'words';
      this.best.checked = d.search.keep === 'highest-score';
      this.strip.checked = !!d.search.stripPunctuation;
      this.syncForm();
    }
    this.renderSummary();
    this.renderList();
  }

  private renderSummary(): void {
    const d = this.data;
    if (!d) {
      this.summary.replaceChildren(
        el(
          'p',
          { class: 'meta' },
          'Choose how alike records must be and press Find duplicates (or run "Find Duplicates…" from the Datasets view). Nothing changes until you tag or delete.',
        ),
      );
      return;
    }
    const counts = el(
      'div',
      { class: 'stats-summary' },
      el(
        'div',
        { class: 'stat' },
        el('strong', { 'data-testid': 'dup-clusters' }, formatCount(d.clusters)),
        el('span', {}, 'clusters'),
      ),
      el(
        'div',
        { class: 'stat' },
        el('strong', { 'data-testid': 'dup-records' }, formatCount(d.records)),
        el('span', {}, 'records in them'),
      ),
      el(
        'div',
        { class: 'stat' },
        el('strong', { 'data-testid': 'dup-extra' }, formatCount(d.extra)),
        el('span', {}, 'beyond one per cluster'),
      ),
      el(
        'div',
        { class: 'stat' },
        el('strong', { 'data-testid': 'dup-resolved' }, formatCount(d.resolved)),
        el('span', {}, 'resolved'),
      ),
    );
    const tagAll = vsButton(
      {
        icon: 'tag',
        'data-testid': 'dup-tag-all',
        title: `Keep one record per cluster and tag the others "${d.tag}" (one undo)`,
      },
      `Tag the others in all clusters "${d.tag}"`,
    );
    const deleteAll = vsButton(
      {
        secondary: '',
        icon: 'trash',
        'data-testid': 'dup-delete-all',
        title: 'Keep one record per cluster and delete the others (one undo)',
      },
      'Delete the others in all clusters',
    );
    tagAll.addEventListener('click', () => void this.resolve('all', 'tag'));
    deleteAll.addEventListener('click', () => void this.resolve('all', 'delete'));
    const open = d.clusters - d.resolved;
    this.summary.replaceChildren();
    if (open === 0 || d.stale) {
      tagAll.setAttribute('disabled', '');
      deleteAll.setAttribute('disabled', '');
    }
    append(
      this.summary,
      el(
        'p',
        { class: 'meta', 'data-testid': 'dup-description' },
        `${d.description[0]?.toUpperCase() ?? ''}${d.description.slice(1)}, among ${formatCount(d.searched)} records.`,
      ),
      d.stale
        ? el(
            'p',
            { class: 'notice notice-warning', role: 'alert', 'data-testid': 'dup-stale' },
            icon('warning'),
            el(
              'span',
              {},
              'Lines were inserted or deleted while this ran, or the file was reloaded: find the duplicates again before acting on them.',
            ),
          )
        : null,
      counts,
      d.clusters
        ? el('div', { class: 'actions' }, tagAll, deleteAll)
        : el('p', { class: 'meta' }, 'No duplicates found.'),
    );
  }

  private renderList(): void {
    this.list.replaceChildren(...this.clusters.map((c) => this.cluster(c)));
    this.more.hidden = !this.data || this.clusters.length >= this.data.clusters;
  }

  private cluster(c: DuplicateClusterPayload): HTMLElement {
    const kept = this.keep.get(c.id) ?? c.representative;
    const head = el(
      'div',
      { class: 'dup-head' },
      el('strong', {}, `Cluster ${c.id + 1}`),
      el(
        'span',
        { class: 'meta' },
        `${c.members.length} records · ${c.kind} · ${c.kind === 'exact' ? 'identical after normalizing' : `similarity ≥ ${similarity(c.similarity)}`}`,
      ),
      c.resolved
        ? el(
            'span',
            { class: 'chip chip-status status-reviewed', 'data-testid': 'dup-resolved-chip' },
            icon('check'),
            ' resolved',
          )
        : null,
    );
    const tag = vsButton(
      {
        secondary: '',
        icon: 'tag',
        'data-testid': `dup-tag-${c.id}`,
        title: 'Tag every record of this cluster but the kept one (one undo)',
      },
      'Tag the others',
    );
    const del = vsButton(
      {
        secondary: '',
        icon: 'trash',
        'data-testid': `dup-delete-${c.id}`,
        title: 'Delete every record of this cluster but the kept one (one undo)',
      },
      'Delete the others',
    );
    tag.addEventListener('click', () => void this.resolve([c.id], 'tag'));
    del.addEventListener('click', () => void this.resolve([c.id], 'delete'));
    if (c.members.length < 2 || this.data?.stale) {
      tag.setAttribute('disabled', '');
      del.setAttribute('disabled', '');
    }
    const members = el('div', { class: 'dup-members' });
    for (const m of c.members) {
      const isKept = m.index === kept;
      const radio = el('vscode-radio', {
        name: `keep-${c.id}`,
        label: isKept ? 'kept' : 'keep',
        'aria-label': `Keep line ${m.lineNumber}`,
        'data-testid': `dup-keep-${m.index}`,
      });
      radio.checked = isKept;
      radio.addEventListener('change', () => {
        if (radio.checked) {
          this.keep.set(c.id, m.index);
          this.renderList();
        }
      });
      const line = el(
        'button',
        { type: 'button', class: 'link-button', 'data-testid': `dup-open-${m.index}`, title: 'Open this record' },
        `Line ${formatCount(m.lineNumber)}`,
      );
      line.addEventListener('click', () => this.cb.open(m.index));
      const chips = el('div', { class: 'chips' });
      if (m.label !== undefined) chips.append(el('span', { class: 'chip chip-suggestion' }, m.label));
      if (m.score !== undefined) chips.append(el('span', { class: 'chip chip-status' }, `score ${m.score}`));
      for (const t of m.tags)
        chips.append(
          el(
            'span',
            {
              class: `chip chip-status${t === this.data?.tag ? ' status-rejected' : ''}`,
              'data-testid': 'dup-tag-chip',
            },
            icon('tag'),
            ` ${t}`,
          ),
        );
      members.append(
        el(
          'article',
          {
            class: `dup-member${isKept ? ' kept' : ''}`,
            'data-testid': `dup-member-${m.index}`,
            'aria-label': `Line ${m.lineNumber}${isKept ? ', kept' : ''}`,
          },
          el('div', { class: 'dup-member-head' }, radio, line),
          chips,
          el('div', { class: 'dup-text' }, m.invalid ? `(invalid line) ${m.text}` : m.text),
        ),
      );
    }
    return el(
      'section',
      {
        class: `stats-card dup-cluster${c.resolved ? ' resolved' : ''}`,
        'data-testid': `dup-cluster-${c.id}`,
        'aria-label': `Cluster ${c.id + 1}`,
      },
      head,
      members,
      el('div', { class: 'actions' }, tag, del),
    );
  }

  private async resolve(clusters: 'all' | number[], action: 'tag' | 'delete'): Promise<void> {
    const keep: Record<string, number> = {};
    for (const [id, index] of this.keep) if (clusters === 'all' || clusters.includes(id)) keep[String(id)] = index;
    try {
      const r = await this.host.request('resolveDuplicates', { clusters, keep, action });
      this.cb.message(r.message);
      await this.load(true);
    } catch (err) {
      this.cb.message(err instanceof Error ? err.message : String(err), true);
    }
  }
}
