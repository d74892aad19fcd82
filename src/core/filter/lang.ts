// Language identification of a text field, offline and deterministic, by franc-min (wooorm/franc:
// character-trigram profiles of the 82 languages with 8M+ speakers; MIT; ESM, bundled by esbuild).
// A hand-written stopword heuristic would cover ~10 languages and be worse on short texts; franc is
// small (no native code, no model download) and well kept, so it earns its place.
//
// Conventions: the text is cut to its first 2,000 characters (franc's accuracy saturates well
// before; this bounds the cost, ~0.1 ms per record); texts under 10 characters give 'und'
// (undetermined). Codes are ISO 639-1 ("en") where one exists in the table below, else franc's
// ISO 639-3 ("ckb"); rules accept either form.
import { franc } from 'franc-min';

/** ISO 639-3 -> ISO 639-1 for the languages franc-min knows that have a two-letter code. */
const TO_ISO1: Record<string, string> = {
  eng: 'en',
  cmn: 'zh',
  spa: 'es',
  hin: 'hi',
  arb: 'ar',
  ben: 'bn',
  por: 'pt',
  rus: 'ru',
  jpn: 'ja',
  deu: 'de',
  fra: 'fr',
  ita: 'it',
  kor: 'ko',
  tur: 'tr',
  vie: 'vi',
  pol: 'pl',
  ukr: 'uk',
  nld: 'nl',
  ron: 'ro',
  ell: 'el',
  ces: 'cs',
  swe: 'sv',
  hun: 'hu',
  tha: 'th',
  ind: 'id',
  zlm: 'ms',
  pes: 'fa',
  urd: 'ur',
  tam: 'ta',
  tel: 'te',
  mar: 'mr',
  guj: 'gu',
  kan: 'kn',
  mal: 'ml',
  pan: 'pa',
  ory: 'or',
  bul: 'bg',
  srp: 'sr',
  hrv: 'hr',
  bos: 'bs',
  slk: 'sk',
  aze: 'az',
  uzn: 'uz',
  kaz: 'kk',
  amh: 'am',
  hau: 'ha',
  yor: 'yo',
  ibo: 'ig',
  zul: 'zu',
  xho: 'xh',
  som: 'so',
  swh: 'sw',
  mya: 'my',
  khm: 'km',
  npi: 'ne',
  sin: 'si',
  tgl: 'tl',
  heb: 'he',
  bel: 'be',
  nya: 'ny',
  mad: 'mad',
  sun: 'su',
  jav: 'jv',
  kin: 'rw',
  run: 'rn',
  sna: 'sn',
  mlg: 'mg',
  ceb: 'ceb',
  uig: 'ug',
  kmr: 'ku',
  ckb: 'ckb',
  plt: 'mg',
  azj: 'az',
  ilo: 'ilo',
  hat: 'ht',
  fuv: 'ff',
  tuk: 'tk',
  tat: 'tt',
  koi: 'koi',
  nno: 'nn',
  nob: 'nb',
};
const TO_ISO3: Record<string, string> = {};
for (const [k, v] of Object.entries(TO_ISO1)) if (!(v in TO_ISO3)) TO_ISO3[v] = k;

/** The language of a text: an ISO 639-1 code when there is one, else ISO 639-3; 'und' when unsure. */
export function detectLanguage(text: string): string {
  const code = franc(text.length > 2000 ? text.slice(0, 2000) : text);
  return TO_ISO1[code] ?? code;
}

/** A user's language code ("en", "eng", "EN") in the form detectLanguage returns. */
export function normalizeLanguage(code: string): string {
  const c = code.trim().toLowerCase();
  return TO_ISO1[c] ?? c;
}

/** Whether a code is one detectLanguage can return (or 'und'). */
export function isKnownLanguage(code: string): boolean {
  const c = normalizeLanguage(code);
  return c === 'und' || c in TO_ISO3 || Object.prototype.hasOwnProperty.call(TO_ISO1, c) || /^[a-z]{3}$/.test(c);
}
