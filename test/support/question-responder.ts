// A deterministic responder for the question tasks (src/core/questions/task.ts) on the loopback
// OpenAI server: it reads the request the way a model would (the schema asked for, the record and
// the text in the messages) and answers with content a test can predict:
//   multi-label  every label whose name appears in the record's text (confidence 0.9; others 0.1)
//   rating       the number after "stars:" in the record, else the scale's minimum (confidence 0.8)
//   ranking      the longest candidate first (ties: the earlier one)
//   text         the answered field with "teh" corrected to "the"
//   span         every e-mail address (EMAIL) and phone number (PHONE) in the text, quoted; a text
//                containing "MISQUOTE" gets one extra quote that is not in the text
// Other requests get the server's default answer.
import { contentText, lastUserText, type ChatBody, type RecordedRequest, type Reply } from './openai-server';

/** The user message with the record to answer: the last one that has a record (few-shot turns come before it; a repair round's comes after). */
function recordMessage(chat: ChatBody): string {
  const msgs = chat.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m?.role === 'user' && contentText(m.content).includes('Record:\n')) return contentText(m.content);
  }
  return lastUserText(chat);
}

function userRecord(chat: ChatBody): Record<string, unknown> {
  const m = /Record:\n(\{[\s\S]*?\})(?:\n\nCandidates|$)/.exec(recordMessage(chat));
  try {
    return m?.[1] ? (JSON.parse(m[1]) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function systemText(chat: ChatBody): string {
  return contentText(chat.messages?.find((m) => m.role === 'system')?.content);
}

export function questionResponder(): (req: RecordedRequest) => Reply | undefined {
  return (req) => {
    const chat = (req.body ?? {}) as ChatBody;
    const name = chat.response_format?.json_schema?.name ?? '';
    const schema = chat.response_format?.json_schema?.schema as
      | {
          properties?: Record<
            string,
            { items?: { enum?: string[] }; properties?: Record<string, unknown>; minimum?: number }
          >;
        }
      | undefined;
    const record = userRecord(chat);
    const recordText = JSON.stringify(record).toLowerCase();
    if (name === 'multi_label_answer') {
      const labels = schema?.properties?.labels?.items?.enum ?? [];
      const chosen = labels.filter((l) => recordText.includes(l.toLowerCase()));
      const confidence = Object.fromEntries(labels.map((l) => [l, chosen.includes(l) ? 0.9 : 0.1]));
      return {
        content: JSON.stringify({ labels: chosen, confidence, rationale: `mentions ${chosen.join(', ') || 'none'}` }),
      };
    }
    if (name.startsWith('rating_answer_')) {
      const min = schema?.properties?.rating?.minimum ?? 1;
      const stars = /stars:\s*(-?\d+)/.exec(JSON.stringify(record));
      return {
        content: JSON.stringify({ rating: stars ? Number(stars[1]) : min, confidence: 0.8, rationale: 'by the stars' }),
      };
    }
    if (name.startsWith('ranking_answer_')) {
      const block = /Candidates \([^)]*\):\n([\s\S]*)$/.exec(recordMessage(chat))?.[1] ?? '';
      const items = [...block.matchAll(/^\[([^\]]+)\] ([\s\S]*?)(?=\n\n\[|$)/gm)].map((m) => ({
        id: m[1] as string,
        text: m[2] as string,
      }));
      const order = items.map((c, i) => ({ ...c, i })).sort((a, b) => b.text.length - a.text.length || a.i - b.i);
      return { content: JSON.stringify({ ranking: order.map((c) => c.id), rationale: 'longer is better' }) };
    }
    if (name === 'text_answer') {
      const field = /about the field "([^"]+)"/.exec(systemText(chat))?.[1];
      const original = field ? record[field] : undefined;
      const text = typeof original === 'string' ? original.replace(/\bteh\b/g, 'the') : 'An answer.';
      return { content: JSON.stringify({ text, rationale: 'fixed the typo' }) };
    }
    if (name === 'span_answer') {
      const text = /<<<\n([\s\S]*)\n>>>/.exec(recordMessage(chat))?.[1] ?? '';
      const spans: { label: string; text: string; occurrence: number }[] = [];
      const seen = new Map<string, number>();
      const add = (label: string, t: string) => {
        const k = seen.get(t) ?? 0;
        seen.set(t, k + 1);
        spans.push({ label, text: t, occurrence: k + 1 });
      };
      for (const m of text.matchAll(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g)) add('EMAIL', m[0]);
      for (const m of text.matchAll(/\+?\d[\d ]{6,}\d/g)) add('PHONE', m[0]);
      if (text.includes('MISQUOTE')) spans.push({ label: 'EMAIL', text: 'nobody@nowhere.test', occurrence: 1 });
      return { content: JSON.stringify({ spans, rationale: `${spans.length} span(s)` }) };
    }
    return undefined;
  };
}
