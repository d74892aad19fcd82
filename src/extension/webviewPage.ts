// What the extension's webview pages (the curation editor, the Parquet preview) share: the nonce
// their inline scripts and styles run under, and the start of the page with its
// Content-Security-Policy.
import { randomBytes } from 'node:crypto';

/** A fresh nonce for one page's script and style tags. */
export function pageNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The page up to its head's own tags: doctype, charset, the Content-Security-Policy `csp`, viewport. */
export function pageStart(csp: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">`;
}
